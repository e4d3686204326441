import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dot, EVIDENCE_DIMENSIONS } from '../../src/evidence/embedders/embedder.ts';
import { expectedModelFiles, GTE_SMALL_MODEL, GteSmallEmbedder } from '../../src/evidence/embedders/gte-small-embedder.ts';
import { StewardError } from '../../src/errors.ts';
import { writeGteSmallFixture } from '../fixtures/gte-small/make-fixture.ts';

// The real loading code (transformers.js, ONNX Runtime, a BERT WordPiece tokenizer) on a
// tiny model in gte-small's real layout, with the network refused throughout.

describe('gte-small embedder', () => {
  let dir: string;
  const fetchBefore = globalThis.fetch;
  let fetched = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steward-gte-'));
    await writeGteSmallFixture(join(dir, 'models'));
    globalThis.fetch = (input) => {
      fetched++;
      return Promise.reject(new Error(`network used: ${input instanceof Request ? input.url : input instanceof URL ? input.href : input}`));
    };
  });
  after(async () => {
    globalThis.fetch = fetchBefore;
    await rm(dir, { recursive: true, force: true });
  });

  it('loads <dir>/Supabase/gte-small and embeds texts as 384-d unit vectors, in order', async () => {
    const e = new GteSmallEmbedder({ modelDir: join(dir, 'models') });
    try {
      assert.equal(e.modelId, GTE_SMALL_MODEL);
      const texts = ['The invoice was paid late.', 'late invoice payment', 'sunny weather at the beach'];
      const vectors = await e.embed(texts);
      assert.equal(vectors.length, 3);
      for (const v of vectors) {
        assert.equal(v.length, EVIDENCE_DIMENSIONS);
        assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-5);
      }
      // The fixture's vectors are mean token vectors: shared tokens make texts close.
      assert.ok(dot(vectors[0]!, vectors[1]!) > dot(vectors[0]!, vectors[2]!));
      // Batched and single embeddings agree (padding does not leak into the mean).
      const [single] = await e.embed([texts[2]!]);
      assert.ok(dot(single!, vectors[2]!) > 0.9999);
      assert.deepEqual(await e.embed([]), []);
    } finally {
      await e.close();
    }
    assert.equal(fetched, 0, 'never touched the network');
  });

  it('a missing model is an error naming the exact path and the files expected', async () => {
    const empty = join(dir, 'empty');
    const e = new GteSmallEmbedder({ modelDir: empty });
    const error = await e.embed(['x']).then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof StewardError);
    assert.equal(error.code, 'config_invalid');
    assert.equal(error.field, 'STEWARD_MODEL_DIR');
    assert.match(error.message, new RegExp(`${join(empty, 'Supabase', 'gte-small').replace(/[/\\]/g, '.')} lacks config\\.json, tokenizer\\.json, tokenizer_config\\.json, onnx/model\\.onnx`));
    assert.deepEqual(error.details?.expected, expectedModelFiles('fp32'));
    assert.equal(fetched, 0);
  });

  it('names only what is missing: a quantized model without its weights', async () => {
    const partial = join(dir, 'partial');
    await writeGteSmallFixture(partial);
    await unlink(join(partial, 'Supabase', 'gte-small', 'tokenizer.json'));
    const error = await new GteSmallEmbedder({ modelDir: partial, dtype: 'q8' }).embed(['x']).then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof StewardError);
    assert.deepEqual(error.details?.missing, ['tokenizer.json', 'onnx/model_quantized.onnx']);
    assert.equal(fetched, 0);
  });
});
