import { restErrors } from './errors.ts';
import { Cursor } from './parse-cursor.ts';
import { parseFieldName, parseJsonPath, type FieldRef } from './parse-field.ts';
import { parseFilterValue, parseLogicTree, type LogicTree } from './parse-filter.ts';
import { parseOrder, type OrderTerm } from './parse-order.ts';
import { parseSelect, type SelectItem } from './parse-select.ts';

/** Where a parameter applies: [] the top-level resource, ['rel'] an embedded one, by its alias or name. */
export type EmbedPath = readonly string[];

export interface Scoped<T> {
  readonly path: EmbedPath;
  readonly value: T;
}

/** A request's query string, parsed (PostgREST's QueryParams). */
export interface QueryParams {
  readonly select: readonly SelectItem[];
  /** Filters and and/or trees, each a tree for one embed path, combined with AND. */
  readonly filters: readonly Scoped<LogicTree>[];
  readonly order: readonly Scoped<readonly OrderTerm[]>[];
  readonly limits: readonly Scoped<number>[];
  readonly offsets: readonly Scoped<number>[];
  /** `columns=`: the payload keys an insert uses. */
  readonly columns: readonly string[] | undefined;
  /** `on_conflict=`: the unique columns an upsert resolves on. */
  readonly onConflict: readonly string[] | undefined;
  /** RPC reads only: parameters whose value is no filter, passed to the function as arguments. */
  readonly rpcArgs: readonly (readonly [string, string])[];
}

const RESERVED = new Set(['select', 'columns', 'on_conflict']);
const MAX_PARAMS = 1000;

/**
 * Splits the raw query string (after `?`) the way PostgREST does: `+` is a space, a
 * repeated filter applies every time, and `a.b.order` / `a.b.limit` / `a.b.or` apply to
 * the embedded resource `a.b`. With `rpcRead`, a value that is not an operator
 * expression is a function argument.
 */
export function parseQueryParams(rawQuery: string, options: { rpcRead?: boolean } = {}): QueryParams {
  const entries = [...new URLSearchParams(rawQuery)];
  if (entries.length > MAX_PARAMS) throw restErrors.queryParam('Too many query parameters', `at most ${MAX_PARAMS}`);
  let select: SelectItem[] = [{ kind: 'star' }];
  let columns: string[] | undefined;
  let onConflict: string[] | undefined;
  const filters: Scoped<LogicTree>[] = [];
  const order: Scoped<readonly OrderTerm[]>[] = [];
  const limits: Scoped<number>[] = [];
  const offsets: Scoped<number>[] = [];
  const rpcArgs: [string, string][] = [];

  for (const [key, value] of entries) {
    if (key === 'select') {
      select = parseSelect(value);
      continue;
    }
    if (key === 'columns') {
      columns = parseColumnList(value, 'columns parameter');
      continue;
    }
    if (key === 'on_conflict') {
      onConflict = parseColumnList(value, 'on_conflict parameter');
      continue;
    }
    if (RESERVED.has(key)) continue;
    const segments = splitKey(key);
    const last = segments.at(-1) ?? '';
    const path = segments.slice(0, -1);
    if (last === 'order') {
      order.push({ path, value: parseOrder(value) });
    } else if (last === 'limit' || last === 'offset') {
      const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw restErrors.queryParam(`"failed to parse ${last} parameter (${value})" (line 1, column 1)`, 'expecting a whole number ≥ 0');
      (last === 'limit' ? limits : offsets).push({ path, value: n });
    } else if (last === 'and' || last === 'or') {
      const negated = path.at(-1) === 'not';
      filters.push({ path: negated ? path.slice(0, -1) : path, value: parseLogicTree(last, negated, value) });
    } else {
      const { path: fieldPath, field } = parseFilterKey(key);
      if (options.rpcRead && fieldPath.length === 0 && !looksLikeOperation(value)) {
        rpcArgs.push([key, value]);
        continue;
      }
      filters.push({ path: fieldPath, value: { kind: 'condition', condition: parseFilterValue(field, value) } });
    }
  }
  return { select, filters, order, limits, offsets, columns, onConflict, rpcArgs };
}

/** The dot-separated parts of a reserved key (`rel.order`, `rel.not.or`). */
function splitKey(key: string): string[] {
  return key.split('.');
}

/** `rel.sub.column->json`: the embed path, then the field. */
export function parseFilterKey(key: string): { path: EmbedPath; field: FieldRef } {
  const c = new Cursor(key, 'tree path');
  const names = [parseFieldName(c)];
  while (c.eat('.')) names.push(parseFieldName(c));
  const jsonPath = parseJsonPath(c);
  if (!c.done) c.fail('delimiter (.), a JSON arrow or end of input');
  return { path: names.slice(0, -1), field: { column: names.at(-1) ?? '', jsonPath } };
}

function parseColumnList(raw: string, what: string): string[] {
  const c = new Cursor(raw, what);
  const names: string[] = [];
  for (;;) {
    c.skipSpaces();
    names.push(parseFieldName(c));
    c.skipSpaces();
    if (c.done) return names;
    c.expect(',', '"," or end of input');
  }
}

/** Whether an RPC read parameter is a filter (`eq.1`) rather than an argument value. */
function looksLikeOperation(value: string): boolean {
  try {
    parseFilterValue({ column: '', jsonPath: [] }, value);
    return true;
  } catch {
    return false;
  }
}
