import { EVIDENCE_DIMENSIONS, normalize, type Embedder } from './embedder.ts';

// Feature hashing: words and character trigrams, each hashed (FNV-1a) to a bucket with a
// sign from a second hash, weighted 1 + log(tf), then L2-normalised. Deterministic and
// instant, so tests and machines without a model can index and search; but it knows only
// shared words and spellings, never meaning: labelled lexical.

export const HASHING_MODEL_ID = 'steward-hashing-lexical-384-v1';

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function features(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  for (const word of text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []) {
    add(`w:${word}`);
    const padded = `#${word}#`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`);
  }
  // Text with no letters or digits still gets a vector of its own (never a zero vector,
  // which has no direction and which the unit-norm check refuses).
  if (counts.size === 0) add(`r:${text}`);
  return counts;
}

export class HashingEmbedder implements Embedder {
  readonly modelId = HASHING_MODEL_ID;
  readonly dimensions = EVIDENCE_DIMENSIONS;
  readonly kind = 'lexical' as const;

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    for (const [feature, count] of features(text)) {
      // Whole words count twice a trigram: they carry more of the meaning.
      const weight = (1 + Math.log(count)) * (feature.startsWith('w:') ? 2 : 1);
      const bucket = fnv1a(feature, 0) % this.dimensions;
      v[bucket] = v[bucket]! + ((fnv1a(feature, 0x9e3779b9) & 1) === 0 ? weight : -weight);
    }
    return normalize(v);
  }
}
