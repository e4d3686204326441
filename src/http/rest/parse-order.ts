import { restErrors } from './errors.ts';
import { Cursor } from './parse-cursor.ts';
import { parseField, type FieldRef } from './parse-field.ts';

// `order=created_at.desc.nullslast,id`

export interface OrderTerm {
  readonly field: FieldRef;
  readonly direction?: 'asc' | 'desc';
  readonly nulls?: 'first' | 'last';
}

export function parseOrder(raw: string): OrderTerm[] {
  const c = new Cursor(raw, 'order');
  const terms: OrderTerm[] = [];
  for (;;) {
    const field = parseField(c);
    if (c.peek() === '(') throw restErrors.notImplemented('ordering by an embedded resource\'s column (relation(column)) is not supported');
    let direction: OrderTerm['direction'];
    let nulls: OrderTerm['nulls'];
    if (c.eat('.asc')) direction = 'asc';
    else if (c.eat('.desc')) direction = 'desc';
    if (c.eat('.nullsfirst')) nulls = 'first';
    else if (c.eat('.nullslast')) nulls = 'last';
    c.skipSpaces();
    terms.push({ field, ...(direction ? { direction } : {}), ...(nulls ? { nulls } : {}) });
    if (c.done) return terms;
    c.expect(',', direction === undefined ? '"asc", "desc", "nullsfirst" or "nullslast"' : '"," or end of input');
  }
}
