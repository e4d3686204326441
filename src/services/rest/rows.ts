// JSON carries timestamps as strings; the service interfaces promise Dates, as the SQL
// drivers return them.

type Row = Record<string, unknown>;

/** `row` with each of `keys` that holds a string turned into a Date (null stays null). */
export function withDates<T>(row: unknown, keys: readonly string[]): T {
  const out: Row = { ...(row as Row) };
  for (const key of keys) {
    const value = out[key];
    if (typeof value === 'string') out[key] = new Date(value);
  }
  return out as T;
}

export function allWithDates<T>(rows: unknown, keys: readonly string[]): T[] {
  return (rows as unknown[]).map((row) => withDates<T>(row, keys));
}

/** The columns as a PostgREST select list (no spaces). */
export function selectList(columns: string): string {
  return columns.replace(/\s+/g, '');
}
