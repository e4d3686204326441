// What commands print. Reads print a table for people, or JSON with --json for programs.

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** A plain aligned table; `columns` picks and orders the fields shown. */
export function printTable<R extends object>(rows: readonly R[], columns: readonly (keyof R & string)[]): void {
  const cell = (v: unknown): string => {
    if (v instanceof Date) return v.toISOString();
    switch (typeof v) {
      case 'string': return v;
      case 'number': case 'boolean': case 'bigint': return String(v);
      case 'undefined': return '';
      default: return v === null ? '' : JSON.stringify(v);
    }
  };
  const table = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  for (const line of table) printLine(line.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
}
