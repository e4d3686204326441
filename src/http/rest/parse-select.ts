import { restErrors } from './errors.ts';
import { Cursor } from './parse-cursor.ts';
import { parseFieldName, parseJsonPath, type FieldRef } from './parse-field.ts';

// `select=id,title:name,data->>k::text,owner:users!fk!inner(name),*`

export type SelectItem =
  | { readonly kind: 'star' }
  | { readonly kind: 'field'; readonly field: FieldRef; readonly alias?: string; readonly cast?: string }
  | {
    readonly kind: 'embed';
    /** The relation as written: a table name (or a foreign key column or constraint name). */
    readonly relation: string;
    readonly alias?: string;
    /** `!hint`: the foreign key constraint or column that picks one relationship. */
    readonly hint?: string;
    /** `!inner`: parent rows without a matching embedded row are left out. */
    readonly inner: boolean;
    readonly items: readonly SelectItem[];
  };

/** Embedding deeper than this is refused (each level is a correlated subquery). */
const MAX_DEPTH = 4;

export function parseSelect(raw: string): SelectItem[] {
  const c = new Cursor(raw, 'select parameter');
  const items = parseList(c, 0);
  if (!c.done) c.fail('"," or end of input');
  return items;
}

function parseList(c: Cursor, depth: number): SelectItem[] {
  const items: SelectItem[] = [];
  c.skipSpaces();
  if (c.done || c.peek() === ')') return items;
  for (;;) {
    items.push(parseItem(c, depth));
    c.skipSpaces();
    if (!c.eat(',')) return items;
  }
}

function parseItem(c: Cursor, depth: number): SelectItem {
  c.skipSpaces();
  if (c.eat('*')) return { kind: 'star' };
  if (c.startsWith('...')) throw restErrors.notImplemented('spread embedding (...relation) is not supported');
  let name = parseFieldName(c);
  let alias: string | undefined;
  if (c.peek() === ':' && c.peek(1) !== ':') {
    c.pos++;
    alias = name;
    c.skipSpaces();
    name = parseFieldName(c);
  }
  if (name === 'count' && c.startsWith('()')) throw restErrors.aggregatesNotAllowed();

  if (c.peek() === '!' || c.peek() === '(') {
    let hint: string | undefined;
    let inner = false;
    while (c.eat('!')) {
      const param = parseFieldName(c);
      if (param === 'inner') inner = true;
      else if (param !== 'left') hint = param;
    }
    if (depth + 1 > MAX_DEPTH) c.fail(`at most ${MAX_DEPTH} levels of embedding`);
    c.expect('(');
    const items = parseList(c, depth + 1);
    c.expect(')', '"," or ")"');
    return { kind: 'embed', relation: name, inner, items, ...(alias !== undefined ? { alias } : {}), ...(hint !== undefined ? { hint } : {}) };
  }

  const jsonPath = parseJsonPath(c);
  let cast: string | undefined;
  if (c.eat('::')) {
    const start = c.pos;
    while (!c.done && /[\p{L}\p{N}_ ]/u.test(c.peek())) c.pos++;
    cast = c.input.slice(start, c.pos).trim();
    if (cast === '') c.fail('a type name');
  }
  // `col.sum()` and friends: PostgREST refuses aggregates unless enabled, and so do we.
  if (/^\.(sum|avg|count|max|min)\(\)/.test(c.input.slice(c.pos))) throw restErrors.aggregatesNotAllowed();
  return { kind: 'field', field: { column: name, jsonPath }, ...(alias !== undefined ? { alias } : {}), ...(cast !== undefined ? { cast } : {}) };
}
