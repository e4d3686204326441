import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { dot } from '../../src/evidence/embedders/embedder.ts';
import { OpenAiEmbedder } from '../../src/evidence/embedders/openai-embedder.ts';
import { StewardError } from '../../src/errors.ts';
import { startFakeEmbeddings, type FakeEmbeddings } from '../fakes/openai-embeddings/server.ts';

describe('OpenAI-compatible embedder, against a local fake of the API', () => {
  let fake: FakeEmbeddings;
  before(async () => {
    fake = await startFakeEmbeddings();
  });
  after(() => fake.close());
  beforeEach(() => {
    (fake.requests as unknown[]).length = 0;
  });

  const embedder = (over: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}) =>
    new OpenAiEmbedder({ baseUrl: fake.url, apiKey: fake.apiKey, model: 'text-embedding-3-small', maxAttempts: 3, ...over });

  it('posts {model, input, dimensions: 384, encoding_format} with the bearer key, and returns unit vectors in input order', async () => {
    const vectors = await embedder().embed(['overdue invoice', 'invoice overdue', 'beach weather']);
    assert.equal(vectors.length, 3);
    assert.ok(vectors.every((v) => v.length === 384 && Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-5));
    assert.ok(dot(vectors[0]!, vectors[1]!) > dot(vectors[0]!, vectors[2]!));
    assert.deepEqual(fake.requests, [{
      authorization: `Bearer ${fake.apiKey}`,
      body: { model: 'text-embedding-3-small', input: ['overdue invoice', 'invoice overdue', 'beach weather'], dimensions: 384, encoding_format: 'float' },
    }]);
  });

  it('sorts the reply by index and splits large inputs into requests of batchSize', async () => {
    fake.failNext({ kind: 'shuffled' });
    const texts = ['a1', 'b2', 'c3', 'd4', 'e5'];
    const [first] = await embedder().embed(['a1']);
    fake.failNext({ kind: 'shuffled' });
    const vectors = await embedder({ batchSize: 2 }).embed(texts);
    assert.equal(fake.requests.length, 1 + 3);
    assert.deepEqual(fake.requests.slice(1).map((r) => r.body.input), [['a1', 'b2'], ['c3', 'd4'], ['e5']]);
    assert.ok(dot(vectors[0]!, first!) > 0.99999, 'a1 stays first although the reply was reversed');
  });

  it('retries 429 (honouring Retry-After) and 5xx, then succeeds', async () => {
    fake.failNext({ kind: 'status', status: 429, retryAfterSeconds: 0 }, { kind: 'status', status: 503 });
    const vectors = await embedder().embed(['retry me']);
    assert.equal(vectors.length, 1);
    assert.equal(fake.requests.length, 3);
  });

  it('gives up after maxAttempts with embedding_failed naming the endpoint and status', async () => {
    fake.failNext({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const error = await embedder({ maxAttempts: 2 }).embed(['x']).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof StewardError);
    assert.equal(error.code, 'embedding_failed');
    assert.match(error.message, /127\.0\.0\.1:\d+\/v1\/embeddings \(model text-embedding-3-small\): HTTP 500/);
    assert.equal(fake.requests.length, 2);
  });

  it('a wrong key is not retried, and the key never appears in the error', async () => {
    const wrong = 'sk-wrong-secret-value';
    const error = await embedder({ apiKey: wrong }).embed(['x']).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof StewardError);
    assert.match(error.message, /HTTP 401/);
    assert.ok(!error.message.includes(wrong) && !JSON.stringify(error.details).includes(wrong));
    assert.equal(fake.requests.length, 1);
  });

  it('refuses replies of the wrong width, malformed replies and unknown models', async () => {
    fake.failNext({ kind: 'wrong_dimensions', dimensions: 768 });
    await assert.rejects(embedder().embed(['x']), /returned 768 dimensions; evidence holds 384/);
    fake.failNext({ kind: 'malformed' });
    await assert.rejects(embedder().embed(['x']), /not an embeddings list/);
    await assert.rejects(embedder({ model: 'no-such-model' }).embed(['x']), /HTTP 404/);
  });

  it('reports a server that does not answer in time', async () => {
    const silent = new OpenAiEmbedder({
      baseUrl: 'http://127.0.0.1:9/v1', model: 'text-embedding-3-small', maxAttempts: 1, timeoutMs: 200,
      fetch: (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    await assert.rejects(silent.embed(['x']), /no answer within 200 ms/);
  });
});
