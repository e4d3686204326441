// Both drivers decode values the same way, so callers and the contract suites never see
// which engine they run on. Postgres sends bigint and numeric as text (no lossless JS
// number exists for all of them); Steward's bigints are ids and counters far below 2^53,
// and its numerics are thresholds in [0, 1], so plain numbers are exact here.
export const INT8_OID = 20;
export const NUMERIC_OID = 1700;

export function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

export function parseNumeric(value: string): number {
  return Number(value);
}
