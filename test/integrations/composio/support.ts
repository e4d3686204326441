import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { ComposioClient, ComposioError, type ComposioClientOptions } from '../../../src/integrations/composio/index.ts';
import { startFakeComposio, type FakeComposio } from '../../fakes/composio/index.ts';

/** Expected fields of a ComposioError; those left out are not checked. */
export type ExpectedError = Partial<Pick<ComposioError, 'kind' | 'failure' | 'status' | 'code' | 'retryAfterMs' | 'path' | 'providerMessage'>>;

/** Awaits `promise`, expecting a ComposioError with these fields. */
export async function rejectsComposio(promise: Promise<unknown>, expected: ExpectedError): Promise<ComposioError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ComposioError, `expected a ComposioError, got ${String(error)}`);
    const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, error[k as keyof ExpectedError]]));
    assert.deepEqual(actual, expected, error.message);
    return error;
  }
  assert.fail(`expected a ComposioError ${JSON.stringify(expected)}, but it resolved`);
}

/**
 * One fake per test file, back to its seed before each test, and a client on it.
 * `harness.fake` and `harness.client` are set once `before` has run.
 */
export function useFakeComposio(clientOptions: Partial<ComposioClientOptions> = {}): { fake: FakeComposio; client: ComposioClient; clientWith(options: Partial<ComposioClientOptions>): ComposioClient } {
  const harness = {} as { fake: FakeComposio; client: ComposioClient; clientWith(options: Partial<ComposioClientOptions>): ComposioClient };
  before(async () => {
    harness.fake = await startFakeComposio();
    harness.clientWith = (options) => new ComposioClient({ baseUrl: harness.fake.url, apiKey: harness.fake.apiKey, ...clientOptions, ...options });
    harness.client = harness.clientWith({});
  });
  beforeEach(() => harness.fake.reset());
  after(() => harness.fake.close());
  return harness;
}
