// What turns text into vectors for evidence search. Every implementation returns unit
// vectors of EVIDENCE_DIMENSIONS (the width of evidence_embeddings.embedding), so one
// HNSW index serves cosine, inner product and L2 alike (010_evidence_search.sql).

/** The width of evidence_embeddings.embedding: gte-small's 384. */
export const EVIDENCE_DIMENSIONS = 384;

export interface Embedder {
  /** Recorded on every row it embeds; search compares rows of one model only. */
  readonly modelId: string;
  readonly dimensions: number;
  /** `semantic`: meaning (paraphrases are close); `lexical`: shared words only. */
  readonly kind: 'semantic' | 'lexical';
  /** One unit vector per text, in order. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /** Releases the model (native sessions, tensors); the embedder is unusable afterwards. */
  close?(): Promise<void>;
}

/** Scales `v` to unit length in place; a zero vector stays zero. Returns `v`. */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

/** The inner product of two vectors of equal length (the cosine, for unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
