import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

// A fixed linear map to fewer dimensions whose rows are orthonormal principal directions
// (scripts/make-use-pca-basis.ts builds them): float32 little-endian, `to` rows of `from`.
// Checked against its sha256, so the bytes are exactly the ones the model id names.

export class PcaProjection {
  readonly from: number;
  readonly to: number;
  readonly #rows: Float32Array;

  private constructor(rows: Float32Array, from: number, to: number) {
    this.#rows = rows;
    this.from = from;
    this.to = to;
  }

  static async load(url: URL, from: number, to: number, sha256: string): Promise<PcaProjection> {
    const bytes = await readFile(url);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== sha256) throw new Error(`${url.pathname}: sha256 ${digest}, expected ${sha256} (a changed basis needs a new model id)`);
    if (bytes.length !== from * to * 4) throw new Error(`${url.pathname}: ${bytes.length} bytes, expected ${from * to * 4}`);
    const rows = new Float32Array(from * to);
    for (let i = 0; i < rows.length; i++) rows[i] = bytes.readFloatLE(i * 4);
    return new PcaProjection(rows, from, to);
  }

  /** The projection of `v` (length `from`): a new vector of length `to`, not normalised. */
  apply(v: ArrayLike<number>): Float32Array {
    if (v.length !== this.from) throw new RangeError(`expected ${this.from} dimensions, got ${v.length}`);
    const out = new Float32Array(this.to);
    for (let r = 0; r < this.to; r++) {
      let sum = 0;
      const base = r * this.from;
      for (let c = 0; c < this.from; c++) sum += this.#rows[base + c]! * v[c]!;
      out[r] = sum;
    }
    return out;
  }
}
