// pgvector's text form, '[0.1,0.2,…]', which both drivers send as a plain text parameter
// (cast with ::vector in SQL). Nine significant digits round-trip a float32 exactly.

export function toVectorLiteral(v: Float32Array): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) out += ',';
    out += Number.isFinite(v[i]) ? v[i]!.toPrecision(9) : 'NaN';
  }
  return `${out}]`;
}
