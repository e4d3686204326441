import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ComposioClient, ComposioError } from '../../../src/integrations/composio/index.ts';
import { StewardError } from '../../../src/errors.ts';
import { startFakeComposio, V1, type Fault } from '../../fakes/composio/index.ts';
import { rejectsComposio, useFakeComposio, type ExpectedError } from './support.ts';

// Every way a call can fail, each mapped to the ComposioError kind the worker acts on:
// faults injected into the fake, timeouts, aborts, dead sockets, answers that are not
// what the API documents; and the API key never showing in any of them.

const h = useFakeComposio();

const send = (options?: { signal?: AbortSignal; timeoutMs?: number }) => h.client.executeTool(
  'SLACK_SEND_MESSAGE', { arguments: { channel: '#general', text: 'hi' }, version: V1, connectedAccountId: 'ca_demo_slack' }, options);

describe('Composio client: HTTP faults', () => {
  it('maps each injected status to its kind, status, provider code and Retry-After', async () => {
    const cases: [Fault, ExpectedError][] = [
      [{ type: '5xx', status: 500 }, { kind: 'retryable', status: 500, retryAfterMs: undefined, code: 10500 }],
      [{ type: '5xx', status: 502 }, { kind: 'retryable', status: 502 }],
      [{ type: '5xx' }, { kind: 'retryable', status: 503 }],
      [{ type: '5xx', status: 504, retryAfterSeconds: 3 }, { kind: 'retryable', status: 504, retryAfterMs: 3000 }],
      [{ type: '429', retryAfterSeconds: 7 }, { kind: 'retryable', status: 429, retryAfterMs: 7000, providerMessage: 'Rate limit exceeded. Please retry after 7 seconds', code: undefined }],
      [{ type: '429', retryAfterMs: 1500, body: 'envelope' }, { kind: 'retryable', status: 429, retryAfterMs: 1500, code: 10429 }],
      [{ type: '429' }, { kind: 'retryable', status: 429, retryAfterMs: 60_000 }],
      [{ type: '401' }, { kind: 'auth', status: 401, code: 10401, providerMessage: 'Invalid API key' }],
      [{ type: '403' }, { kind: 'auth', status: 403 }],
      [{ type: '404' }, { kind: 'permanent', status: 404, code: 2401, providerMessage: 'Tool SLACK_SEND_MESSAGE not found' }],
      [{ type: '400' }, { kind: 'permanent', status: 400 }],
      [{ type: '409' }, { kind: 'conflict', status: 409, code: 10409 }],
      [{ type: '410' }, { kind: 'permanent', status: 410, code: 1820 }],
      [{ type: '422' }, { kind: 'permanent', status: 422 }],
    ];
    for (const [fault, expected] of cases) {
      h.fake.inject({ fault, times: 1 });
      const error = await rejectsComposio(send(), { failure: 'http', ...expected });
      assert.match(error.message, new RegExp(`^Composio POST /tools/execute/SLACK_SEND_MESSAGE: HTTP ${expected.status} `));
    }
    assert.equal(h.fake.executions.length, 0, 'no fault ran the tool');
    assert.equal((await send()).successful, true, 'times: 1 retires each fault');
  });

  it('reads Retry-After as an HTTP-date too', async () => {
    const at = Math.ceil(Date.now() / 1000) * 1000 + 30_000; // HTTP-dates have whole seconds
    h.fake.inject({ fault: { type: '429', retryAfterHttpDate: new Date(at).toUTCString() } });
    const before = Date.now();
    const error = await rejectsComposio(send(), { kind: 'retryable', status: 429 });
    const after = Date.now();
    assert.ok(error.retryAfterMs! >= at - after && error.retryAfterMs! <= at - before, `${error.retryAfterMs} not in [${at - after}, ${at - before}]`);
  });

  it('x-should-retry overrides the status, except for auth and conflict', async () => {
    h.fake.inject({ fault: { type: '5xx', shouldRetry: false }, times: 1 });
    await rejectsComposio(send(), { kind: 'permanent', status: 503 });
    h.fake.inject({ fault: { type: '400', shouldRetry: true }, times: 1 });
    await rejectsComposio(send(), { kind: 'retryable', status: 400 });
    h.fake.inject({ fault: { type: '401', shouldRetry: true }, times: 1 });
    await rejectsComposio(send(), { kind: 'auth', status: 401 });
    h.fake.inject({ fault: { type: '409', shouldRetry: true }, times: 1 });
    await rejectsComposio(send(), { kind: 'conflict', status: 409 });
  });

  it('a proxy’s HTML error page still maps by status, with no provider message', async () => {
    h.fake.inject({ fault: { type: '5xx', status: 502, body: 'html' } });
    const error = await rejectsComposio(send(), { kind: 'retryable', status: 502, providerMessage: undefined, code: undefined });
    assert.equal(error.message, 'Composio POST /tools/execute/SLACK_SEND_MESSAGE: HTTP 502 Bad Gateway');
  });

  it('a bad API key is an auth error with Composio’s error body', async () => {
    const wrong = h.clientWith({ apiKey: 'ak_not_the_key' });
    await rejectsComposio(wrong.listToolkits(), { kind: 'auth', status: 401, code: 10401, providerMessage: 'Invalid API key' });
    assert.equal(h.fake.requests.at(-1)!.headers['x-api-key'], '[invalid]');
  });

  it('faults apply per tool, for `times` calls, after `skip` calls', async () => {
    h.fake.inject({ tool: 'GMAIL_SEND_EMAIL', fault: { type: '5xx' }, times: 2 });
    const gmail = () => h.client.executeTool('GMAIL_SEND_EMAIL', { arguments: { recipient_email: 'a@example.com', body: 'x' }, version: V1, connectedAccountId: 'ca_demo_gmail' });
    assert.equal((await send()).successful, true, 'another tool is not affected');
    await rejectsComposio(gmail(), { status: 503 });
    await rejectsComposio(h.client.getTool('GMAIL_SEND_EMAIL'), { status: 503 }); // the tool's GET counts too
    assert.equal((await gmail()).successful, true);

    h.fake.inject({ route: 'tools.list', skip: 1, times: 1, fault: { type: '429', retryAfterSeconds: 2 } });
    await h.client.listTools();
    await rejectsComposio(h.client.listTools(), { status: 429, retryAfterMs: 2000 });
    await h.client.listTools();
    assert.deepEqual(h.fake.requests.filter((r) => r.route === 'tools.list').map((r) => r.status), [200, 429, 200]);
  });

  it('a fault may strike after the tool ran: the side effect happened, the caller saw a 502', async () => {
    h.fake.inject({ tool: 'SLACK_SEND_MESSAGE', times: 1, fault: { type: '5xx', status: 502, applyEffect: true } });
    await rejectsComposio(send(), { kind: 'retryable', status: 502 });
    assert.equal(h.fake.executions.length, 1);
  });
});

describe('Composio client: timeouts, aborts, broken connections', () => {
  it('a slow answer past the client timeout is a retryable timeout; the late side effect still lands', async () => {
    h.fake.inject({ tool: 'SLACK_SEND_MESSAGE', fault: { type: 'slow', delayMs: 1500 }, times: 1 });
    const quick = h.clientWith({ timeoutMs: 100 });
    const started = Date.now();
    const error = await rejectsComposio(quick.executeTool('SLACK_SEND_MESSAGE', { arguments: { channel: '#general', text: 'hi' }, version: V1, connectedAccountId: 'ca_demo_slack' }), { kind: 'retryable', failure: 'timeout', status: undefined });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 1200, `gave up after ${elapsed} ms, not at the answer`);
    assert.equal(error.message, 'Composio POST /tools/execute/SLACK_SEND_MESSAGE: no answer within 100 ms');
    assert.equal(h.fake.executions.length, 0);
    await waitFor(() => h.fake.executions.length === 1, 5000);
  });

  it('a slow answer within the timeout succeeds; a per-call timeout overrides the client’s', async () => {
    h.fake.inject({ route: 'tools.get', fault: { type: 'slow', delayMs: 300 } });
    const tool = await h.client.getTool('SLACK_SEND_MESSAGE');
    assert.equal(tool.slug, 'SLACK_SEND_MESSAGE');
    await rejectsComposio(h.client.getTool('SLACK_SEND_MESSAGE', {}, { timeoutMs: 50 }), { failure: 'timeout', kind: 'retryable' });
    await assert.rejects(h.client.getTool('SLACK_SEND_MESSAGE', {}, { timeoutMs: -1 }), { name: 'StewardError', code: 'invalid_input', field: 'timeoutMs' });
  });

  it('a hang is a timeout; an abort is its own failure, also retryable, and stops at once', async () => {
    h.fake.inject({ route: 'toolkits.list', fault: { type: 'hang' } });
    await rejectsComposio(h.client.listToolkits({}, { timeoutMs: 80 }), { failure: 'timeout', kind: 'retryable' });

    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('worker stopping')), 50);
    const error = await rejectsComposio(h.client.listToolkits({}, { signal: controller.signal, timeoutMs: 5000 }), { failure: 'aborted', kind: 'retryable' });
    assert.ok(Date.now() - started < 1000, 'the abort did not wait for the timeout');
    assert.equal((error.cause as Error).message, 'worker stopping');
  });

  it('an already aborted signal sends nothing', async () => {
    await rejectsComposio(send({ signal: AbortSignal.abort() }), { failure: 'aborted', kind: 'retryable' });
    assert.equal(h.fake.requests.length, 0);
  });

  it('a reset connection and a closed port are retryable network failures', async () => {
    h.fake.inject({ fault: { type: 'reset' }, times: 1 });
    await rejectsComposio(send(), { failure: 'network', kind: 'retryable', status: undefined });

    const closed = new ComposioClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: 'ak_x' });
    const error = await rejectsComposio(closed.listTools(), { failure: 'network', kind: 'retryable' });
    assert.match(error.message, /ECONNREFUSED/);
  });
});

describe('Composio client: responses that do not match the API', () => {
  it('a malformed body (set through the admin endpoint) is a permanent error naming the path', async () => {
    const admin = async (rule: unknown) => {
      const res = await fetch(`${h.fake.url}/_fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
      assert.equal(res.status, 201);
      return (await res.json() as { id: string }).id;
    };
    await admin({ route: 'tools.list', times: 1, fault: { type: 'malformed', corrupt: [{ path: 'items.1.input_parameters', value: 'not a schema' }] } });
    const schema = await rejectsComposio(h.client.listTools(), { kind: 'permanent', failure: 'invalid_response', path: 'items.1.input_parameters', status: undefined });
    assert.match(schema.message, /^Composio GET \/tools: the response does not match the API at items\.1\.input_parameters: /);

    await admin({ route: 'connected_accounts.get', times: 1, fault: { type: 'malformed', corrupt: [{ path: 'status', value: 'ZOMBIE' }] } });
    await rejectsComposio(h.client.getConnectedAccount('ca_demo_gmail'), { kind: 'permanent', failure: 'invalid_response', path: 'status' });

    await admin({ route: 'tools.execute', times: 1, fault: { type: 'malformed', corrupt: [{ path: 'successful', remove: true }] } });
    await rejectsComposio(send(), { kind: 'permanent', failure: 'invalid_response', path: 'successful' });
    assert.equal(h.fake.executions.length, 1, 'the tool ran; only its answer was broken');

    await admin({ route: 'toolkits.list', times: 1, fault: { type: 'malformed' } });
    await rejectsComposio(h.client.listToolkits(), { kind: 'permanent', failure: 'invalid_response', path: 'items' });

    await admin({ route: 'connected_accounts.status', times: 1, fault: { type: 'malformed', corrupt: [{ path: 'success', value: false }] } });
    await rejectsComposio(h.client.disableConnectedAccount('ca_demo_gmail'), { kind: 'permanent', failure: 'invalid_response', path: 'success' });
  });

  it('a 200 that is not JSON is a permanent invalid_response', async () => {
    h.fake.inject({ route: 'tools.list', fault: { type: 'invalid_json' } });
    const error = await rejectsComposio(h.client.listTools(), { kind: 'permanent', failure: 'invalid_response', path: '' });
    assert.equal(error.message, 'Composio GET /tools: the response is not JSON');
  });

  it('a cursor that repeats is a permanent error instead of an endless loop', async () => {
    // Every page answers with the first page's body, so next_cursor never moves on.
    const first = await h.client.listTools({ limit: 5 });
    h.fake.inject({ route: 'tools.list', fault: { type: 'malformed', corrupt: [{ path: 'next_cursor', value: first.next_cursor }] } });
    const seen: string[] = [];
    const error = await rejectsComposio((async () => {
      for await (const tool of h.client.iterateTools({ limit: 5 })) seen.push(tool.slug);
    })(), { kind: 'permanent', failure: 'invalid_response', path: 'next_cursor' });
    assert.equal(seen.length, 10, 'two pages, then the repeat is caught');
    assert.match(error.message, /next_cursor repeats/);
  });
});

describe('Composio client: the API key stays secret', () => {
  const KEY = 'ak_secret_4f9c2e_do_not_log';

  it('appears in no error, message, stack, JSON or inspection, even when the provider echoes it', async () => {
    const fake = await startFakeComposio({ apiKey: KEY });
    try {
      const client = new ComposioClient({ baseUrl: fake.url, apiKey: KEY });
      const errors: unknown[] = [];
      const capture = async (promise: Promise<unknown>) => {
        try {
          await promise;
        } catch (error) {
          errors.push(error);
        }
      };
      const run = (options?: { signal?: AbortSignal; timeoutMs?: number }) => client.executeTool('GMAIL_FETCH_EMAILS', { arguments: {}, version: V1, connectedAccountId: 'ca_demo_gmail' }, options);
      fake.inject({ times: 1, fault: { type: '401', message: `Invalid API key ${KEY}` } });
      await capture(run());
      fake.inject({ times: 1, fault: { type: '400', message: `bad header x-api-key: ${KEY}` } });
      await capture(run());
      fake.inject({ times: 1, fault: { type: '429', body: 'flat', message: `slow down, ${KEY}` } });
      await capture(run());
      fake.inject({ times: 1, fault: { type: '5xx', body: 'html' } });
      await capture(run());
      fake.inject({ times: 1, fault: { type: 'slow', delayMs: 200 } });
      await capture(run({ timeoutMs: 20 }));
      fake.inject({ times: 1, fault: { type: 'hang' } });
      await capture(run({ signal: AbortSignal.timeout(20) }));
      fake.inject({ times: 1, fault: { type: 'malformed' } });
      await capture(run());
      fake.inject({ times: 1, fault: { type: 'reset' } });
      await capture(run());
      await capture(new ComposioClient({ baseUrl: fake.url, apiKey: `${KEY}_wrong` }).listTools());
      await capture(new ComposioClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: KEY }).listTools());

      assert.equal(errors.length, 10);
      assert.deepEqual(new Set(errors.map((e) => (e as ComposioError).failure)), new Set(['http', 'timeout', 'aborted', 'invalid_response', 'network']));
      for (const error of errors) {
        assert.ok(error instanceof ComposioError);
        for (const text of [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: 10 }), String(error.providerMessage), String(error.errors)]) {
          assert.ok(!text.includes(KEY), `the key leaked through ${error.failure}: ${text.slice(0, 300)}`);
        }
      }
      const echoed = errors[0] as ComposioError;
      assert.equal(echoed.providerMessage, 'Invalid API key [redacted]');
      // The fake never records it either.
      assert.ok(!JSON.stringify(fake.requests).includes(KEY));
      assert.ok(!inspect(client, { depth: 10 }).includes(KEY) && !JSON.stringify(client).includes(KEY), 'the client does not show it');
    } finally {
      await fake.close();
    }
  });

  it('is refused over plain http except to loopback, and must not be empty', () => {
    assert.throws(() => new ComposioClient({ baseUrl: 'http://composio.example.com', apiKey: KEY }), (error: unknown) =>
      error instanceof StewardError && error.code === 'config_invalid' && error.field === 'baseUrl' && !error.message.includes(KEY));
    assert.ok(new ComposioClient({ baseUrl: 'http://composio.example.com', apiKey: KEY, allowInsecureHttp: true }));
    assert.ok(new ComposioClient({ baseUrl: 'https://backend.composio.dev/', apiKey: KEY }));
    assert.throws(() => new ComposioClient({ baseUrl: 'https://backend.composio.dev', apiKey: ' ' }), { code: 'config_invalid', field: 'apiKey' });
    assert.throws(() => new ComposioClient({ baseUrl: 'https://backend.composio.dev', apiKey: KEY, timeoutMs: 0 }), { code: 'config_invalid', field: 'timeoutMs' });
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port nothing listens on: bound, read, released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
