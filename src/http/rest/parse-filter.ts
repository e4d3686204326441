import { Cursor } from './parse-cursor.ts';
import { parseField, parseQuoted, type FieldRef } from './parse-field.ts';

// Filters (`col=not.in.(1,2)`) and logic trees (`or=(a.eq.1,and(b.gt.2,c.is.null))`),
// PostgREST's horizontal filtering grammar.

export const COMPARISON_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'isdistinct', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxr', 'nxl', 'adj'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export const FTS_OPERATORS = ['fts', 'plfts', 'phfts', 'wfts'] as const;
export type FtsOperator = (typeof FTS_OPERATORS)[number];
export const IS_VALUES = ['null', 'not_null', 'true', 'false', 'unknown'] as const;
export type IsValue = (typeof IS_VALUES)[number];

/** Operators that take `(any)` / `(all)` and then a PostgreSQL array of values. */
const QUANTIFIABLE = new Set<string>(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);

export type Operation =
  | { readonly kind: 'compare'; readonly operator: ComparisonOperator; readonly value: string; readonly quantifier?: 'any' | 'all' }
  | { readonly kind: 'in'; readonly values: readonly string[] }
  | { readonly kind: 'is'; readonly value: IsValue }
  | { readonly kind: 'fts'; readonly operator: FtsOperator; readonly config?: string; readonly value: string };

export interface Condition {
  readonly field: FieldRef;
  readonly negated: boolean;
  readonly operation: Operation;
}

export type LogicTree =
  | { readonly kind: 'condition'; readonly condition: Condition }
  | { readonly kind: 'group'; readonly negated: boolean; readonly operator: 'and' | 'or'; readonly children: readonly LogicTree[] };

/** Nesting deeper than this is refused: PostgreSQL's parser has limits too, and reaching them is a 500. */
const MAX_LOGIC_DEPTH = 10;

/** A filter's value: `[not.]operator[(modifier)].value`. */
export function parseFilterValue(field: FieldRef, raw: string): Condition {
  const c = new Cursor(raw, 'filter');
  const condition = parseOperation(c, field, false);
  if (!c.done) c.fail('end of input');
  return condition;
}

/** An `and=`/`or=` parameter: `operator` is the key's last part, `raw` its value `(…)`. */
export function parseLogicTree(operator: 'and' | 'or', negated: boolean, raw: string): LogicTree {
  const c = new Cursor(raw, 'logic tree');
  const children = parseGroupBody(c, 0);
  if (!c.done) c.fail('end of input');
  return { kind: 'group', negated, operator, children };
}

function parseGroupBody(c: Cursor, depth: number): LogicTree[] {
  if (depth >= MAX_LOGIC_DEPTH) c.fail(`at most ${MAX_LOGIC_DEPTH} nested and/or groups`);
  c.skipSpaces();
  c.expect('(');
  const children: LogicTree[] = [];
  for (;;) {
    c.skipSpaces();
    children.push(parseLogicItem(c, depth));
    c.skipSpaces();
    if (c.eat(')')) return children;
    c.expect(',', '"," or ")"');
  }
}

function parseLogicItem(c: Cursor, depth: number): LogicTree {
  const group = /^(not\.)?(and|or)\(/.exec(c.input.slice(c.pos));
  if (group) {
    c.pos += group[0].length - 1;
    const children = parseGroupBody(c, depth + 1);
    return { kind: 'group', negated: group[1] !== undefined, operator: group[2] as 'and' | 'or', children };
  }
  const field = parseField(c);
  c.expect('.', 'delimiter (.)');
  return { kind: 'condition', condition: parseOperation(c, field, true) };
}

function parseOperation(c: Cursor, field: FieldRef, inLogic: boolean): Condition {
  const negated = c.eat('not.');
  const start = c.pos;
  while (!c.done && /[a-z_]/.test(c.peek())) c.pos++;
  const operator = c.input.slice(start, c.pos);
  let operation: Operation;
  if (operator === 'in') {
    c.expect('.', 'delimiter (.)');
    operation = { kind: 'in', values: parseList(c) };
  } else if (operator === 'is') {
    c.expect('.', 'delimiter (.)');
    const at = c.pos;
    const value = singleValue(c, inLogic).toLowerCase();
    if (!(IS_VALUES as readonly string[]).includes(value)) {
      c.pos = at;
      c.fail('isVal: (null, not_null, true, false, unknown)');
    }
    operation = { kind: 'is', value: value as IsValue };
  } else if ((FTS_OPERATORS as readonly string[]).includes(operator)) {
    let config: string | undefined;
    if (c.eat('(')) {
      const from = c.pos;
      while (!c.done && /[\p{L}\p{N}_$ ]/u.test(c.peek())) c.pos++;
      config = c.input.slice(from, c.pos).trim();
      if (config === '') c.fail('a text search configuration');
      c.expect(')');
    }
    c.expect('.', 'delimiter (.)');
    operation = { kind: 'fts', operator: operator as FtsOperator, value: singleValue(c, inLogic), ...(config !== undefined ? { config } : {}) };
  } else if ((COMPARISON_OPERATORS as readonly string[]).includes(operator)) {
    let quantifier: 'any' | 'all' | undefined;
    if (QUANTIFIABLE.has(operator)) {
      if (c.eat('(any)')) quantifier = 'any';
      else if (c.eat('(all)')) quantifier = 'all';
    }
    c.expect('.', 'delimiter (.)');
    operation = { kind: 'compare', operator: operator as ComparisonOperator, value: singleValue(c, inLogic), ...(quantifier ? { quantifier } : {}) };
  } else {
    c.pos = start;
    c.fail('"not" or operator (eq, gt, ...)');
  }
  return { field, negated, operation };
}

/** Top level: the rest of the value. Inside and/or: up to `,` or `)`, or quoted, or a `{…}` array. */
function singleValue(c: Cursor, inLogic: boolean): string {
  if (!inLogic) return c.rest();
  if (c.peek() === '"') {
    const save = c.pos;
    const quoted = parseQuoted(c);
    if (c.done || c.peek() === ',' || c.peek() === ')') return quoted;
    c.pos = save;
  }
  if (c.peek() === '{') {
    const close = c.input.indexOf('}', c.pos);
    if (close >= 0 && !c.input.slice(c.pos + 1, close).includes('{')) {
      const value = c.input.slice(c.pos, close + 1);
      c.pos = close + 1;
      return value;
    }
  }
  const from = c.pos;
  while (!c.done && c.peek() !== ',' && c.peek() !== ')') c.pos++;
  return c.input.slice(from, c.pos);
}

/** `(a,b,"c,d")`: elements quoted when they hold `,` `(` `)` (as supabase-js sends them). */
function parseList(c: Cursor): string[] {
  c.skipSpaces();
  c.expect('(');
  const values: string[] = [];
  for (;;) {
    let value: string | undefined;
    if (c.peek() === '"') {
      const save = c.pos;
      const quoted = parseQuoted(c);
      if (c.peek() === ',' || c.peek() === ')') value = quoted;
      else c.pos = save;
    }
    if (value === undefined) {
      const from = c.pos;
      while (!c.done && c.peek() !== ',' && c.peek() !== ')') c.pos++;
      value = c.input.slice(from, c.pos);
    }
    values.push(value);
    if (c.eat(')')) break;
    c.expect(',', '"," or ")"');
  }
  c.skipSpaces();
  return values;
}
