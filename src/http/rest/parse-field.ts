import type { Cursor } from './parse-cursor.ts';

// Names and JSON paths as PostgREST writes them in select, filters and order:
// `col`, `"col with , chars"`, `col-with-dashes`, `data->key->>0`.

export interface JsonStep {
  /** `->` keeps JSON, `->>` gives text. */
  readonly arrow: '->' | '->>';
  /** A key, or an array index (a number). */
  readonly key: string | number;
}

/** A column, possibly followed by a JSON path. */
export interface FieldRef {
  readonly column: string;
  readonly jsonPath: readonly JsonStep[];
}

const IDENTIFIER_CHAR = /[\p{L}\p{N}_$ ]/u;
const FIELD_NAME_EXPECTED = 'field name (* or [a..z0..9_$])';

/** A quoted name (backslash escapes the next character) or identifier parts joined by `-`. */
export function parseFieldName(c: Cursor): string {
  if (c.peek() === '"') return parseQuoted(c);
  const parts: string[] = [];
  for (;;) {
    const start = c.pos;
    while (!c.done && IDENTIFIER_CHAR.test(c.peek())) c.pos++;
    if (c.pos === start) c.fail(FIELD_NAME_EXPECTED);
    parts.push(c.input.slice(start, c.pos).trim());
    // A dash joins parts unless it starts a JSON arrow.
    if (c.peek() === '-' && c.peek(1) !== '>') {
      c.pos++;
      continue;
    }
    return parts.join('-');
  }
}

export function parseQuoted(c: Cursor): string {
  c.expect('"');
  let value = '';
  for (;;) {
    if (c.done) c.fail('"\\"" (end of quoted value)');
    const ch = c.peek();
    c.pos++;
    if (ch === '"') return value;
    if (ch === '\\') {
      if (c.done) c.fail('an escaped character');
      value += c.peek();
      c.pos++;
    } else {
      value += ch;
    }
  }
}

const JSON_KEY_STOP = new Set(['(', '-', ':', '.', ',', '>', ')']);

/** Zero or more `->key`, `->>key`, `->0` steps. */
export function parseJsonPath(c: Cursor): JsonStep[] {
  const steps: JsonStep[] = [];
  for (;;) {
    let arrow: JsonStep['arrow'];
    if (c.eat('->>')) arrow = '->>';
    else if (c.eat('->')) arrow = '->';
    else return steps;
    steps.push({ arrow, key: parseJsonKey(c) });
  }
}

function parseJsonKey(c: Cursor): string | number {
  if (c.peek() === '"') return parseQuoted(c);
  const index = /^-?\d+(?=->|::|\.|,|\)|$)/.exec(c.input.slice(c.pos));
  if (index) {
    c.pos += index[0].length;
    return Number(index[0]);
  }
  const parts: string[] = [];
  for (;;) {
    const start = c.pos;
    while (!c.done && !JSON_KEY_STOP.has(c.peek())) c.pos++;
    if (c.pos === start) c.fail('a JSON key (any character but .,>():-)');
    parts.push(c.input.slice(start, c.pos).trim());
    if (c.peek() === '-' && c.peek(1) !== '>') {
      c.pos++;
      continue;
    }
    return parts.join('-');
  }
}

export function parseField(c: Cursor): FieldRef {
  c.skipSpaces();
  const column = parseFieldName(c);
  const jsonPath = parseJsonPath(c);
  c.skipSpaces();
  return { column, jsonPath };
}

/** The name a field gets in the result: its alias, else the last JSON key, else the column. */
export function outputName(field: FieldRef, alias?: string): string {
  if (alias !== undefined) return alias;
  const last = field.jsonPath.at(-1);
  return last === undefined ? field.column : String(last.key);
}
