import { wrapRows, logicSql, newStatement, type Statement, type StatementContext } from './build-read.ts';
import type { CatalogColumn, CatalogTable } from './catalog.ts';
import { restErrors } from './errors.ts';
import type { PlannedLogic, ReadNode } from './read-plan.ts';
import { qualified, quoteIdent } from './sql.ts';

// Insert, upsert, update and delete. The payload travels as one JSON parameter and is
// turned into typed rows by json_to_record with the catalog's column types, so arrays,
// JSON documents and every other type are parsed by PostgreSQL exactly as PostgREST has
// them parsed, and no value is ever part of the statement text.

/** A JSON body's rows, checked: objects only, every key a column of the table. */
export function payloadRows(table: CatalogTable, body: unknown, options: { columns: readonly string[] | undefined; allowArray: boolean }): { rows: Record<string, unknown>[]; columns: CatalogColumn[] } {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  let rows: Record<string, unknown>[];
  if (isObject(body)) rows = [body];
  else if (options.allowArray && Array.isArray(body) && body.every(isObject)) rows = body;
  else throw restErrors.invalidBody('Empty or invalid json', options.allowArray ? 'the body must be a JSON object or an array of objects' : 'the body must be a JSON object');

  let names: readonly string[];
  if (options.columns !== undefined) {
    names = options.columns;
  } else {
    names = rows.length > 0 ? Object.keys(rows[0]!) : [];
    const key = [...names].sort().join('\u0000');
    if (rows.some((r) => Object.keys(r).sort().join('\u0000') !== key)) throw restErrors.invalidBody('All object keys must match');
  }
  const columns = [...new Set(names)].map((name) => {
    const column = table.columnsByName.get(name);
    if (!column) throw restErrors.columnNotFound(table.name, name);
    return column;
  });
  return { rows, columns };
}

/** `json_to_record($1) as alias("a" text, "b" integer)`: the payload typed by the catalog. */
function recordColumns(columns: readonly CatalogColumn[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
}

export interface InsertPlan {
  readonly table: CatalogTable;
  readonly rows: readonly Record<string, unknown>[];
  readonly columns: readonly CatalogColumn[];
  /** `Prefer: missing=default`: a key absent from a row takes the column default, not null. */
  readonly missingDefault: boolean;
  readonly onConflict?: { readonly columns: readonly CatalogColumn[]; readonly resolution: 'merge-duplicates' | 'ignore-duplicates' };
}

/** How a mutation answers: nothing but a row count, or the changed rows shaped by `node`. */
export type Returning = { readonly kind: 'count' } | { readonly kind: 'rows'; readonly node: ReadNode; readonly stripNulls: boolean };

export function buildInsert(plan: InsertPlan, returning: Returning): Statement {
  const ctx = newStatement();
  const payload = ctx.params.add(JSON.stringify(plan.rows));
  const target = ctx.aliases.next();
  const record = ctx.aliases.next();
  const values = plan.columns.map((c) => {
    const value = `${record}.${quoteIdent(c.name)}`;
    if (!plan.missingDefault) return value;
    // The database's own default expression (catalog SQL), for a key the row leaves out.
    return `case when (_pgrst_rows.doc -> ${ctx.params.add(c.name)}::text) is not null then ${value} else ${c.defaultExpr ?? 'null'} end`;
  });
  let sql = `insert into ${qualified(plan.table.name)} as ${target} (${plan.columns.map((c) => quoteIdent(c.name)).join(', ')})`
    + ` select ${values.join(', ')}`
    + ` from json_array_elements(${payload}::json) with ordinality as _pgrst_rows(doc, n)`
    + ` cross join lateral json_to_record(_pgrst_rows.doc) as ${record}(${recordColumns(plan.columns)})`
    + ' order by _pgrst_rows.n';
  if (plan.columns.length === 0) {
    // Rows without keys: every column takes its default. (The payload is then unused.)
    const first = plan.table.columns[0];
    if (!first || plan.rows.length > 1000) throw restErrors.invalidBody('Empty or invalid json', 'rows without any column: at most 1000, into a table with columns');
    sql = `insert into ${qualified(plan.table.name)} as ${target} (${quoteIdent(first.name)}) values ${plan.rows.map(() => '(default)').join(', ')}`;
    ctx.params.values.length = 0;
  }
  if (plan.onConflict) {
    const conflict = plan.onConflict.columns.map((c) => quoteIdent(c.name)).join(', ');
    const updates = plan.columns.filter((c) => !plan.onConflict!.columns.includes(c));
    sql += plan.onConflict.resolution === 'ignore-duplicates' || updates.length === 0
      ? ` on conflict (${conflict}) do nothing`
      : ` on conflict (${conflict}) do update set ${updates.map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`).join(', ')}`;
  }
  // An upsert that only updated answers 200 instead of 201: xmax is 0 on inserted rows.
  const countInserted = plan.onConflict?.resolution === 'merge-duplicates' && plan.table.kind === 'table';
  return finishMutation(ctx, sql, target, returning, countInserted ? `(${target}.xmax = 0) as _pgrst_inserted` : undefined);
}

export interface UpdatePlan {
  readonly table: CatalogTable;
  readonly values: Record<string, unknown>;
  readonly columns: readonly CatalogColumn[];
  readonly filters: readonly PlannedLogic[];
}

export function buildUpdate(plan: UpdatePlan, returning: Returning): Statement {
  const ctx = newStatement();
  const target = ctx.aliases.next();
  const record = ctx.aliases.next();
  const payload = ctx.params.add(JSON.stringify(plan.values));
  const set = plan.columns.map((c) => `${quoteIdent(c.name)} = ${record}.${quoteIdent(c.name)}`).join(', ');
  const sql = `update ${qualified(plan.table.name)} as ${target} set ${set}`
    + ` from json_to_record(${payload}::json) as ${record}(${recordColumns(plan.columns)})`
    + mutationWhere(ctx, plan.filters, target);
  return finishMutation(ctx, sql, target, returning);
}

export function buildDelete(plan: { readonly table: CatalogTable; readonly filters: readonly PlannedLogic[] }, returning: Returning): Statement {
  const ctx = newStatement();
  const target = ctx.aliases.next();
  const sql = `delete from ${qualified(plan.table.name)} as ${target}${mutationWhere(ctx, plan.filters, target)}`;
  return finishMutation(ctx, sql, target, returning);
}

function mutationWhere(ctx: StatementContext, filters: readonly PlannedLogic[], alias: string): string {
  return filters.length === 0 ? '' : ` where ${filters.map((f) => logicSql(ctx, f, alias)).join(' and ')}`;
}

/**
 * Without a representation the statement runs bare: no RETURNING, so only the UPDATE/
 * DELETE policies apply (RETURNING would add the SELECT policies, as in PostgREST's
 * return=minimal). With one, the changed rows come back through a CTE, shaped and
 * aggregated like a read.
 */
function finishMutation(ctx: StatementContext, mutation: string, target: string, returning: Returning, extra?: string): Statement {
  if (returning.kind === 'count') return { text: mutation, values: ctx.params.values };
  const rows = ctx.aliases.next();
  const cte = `with _pgrst_mutation as (${mutation} returning ${target}.*${extra ? `, ${extra}` : ''}) `;
  const shaped = wrapRows(ctx, { ...returning.node, filters: [], limit: undefined, offset: undefined }, rows, `_pgrst_mutation as ${rows}`, {
    // `total` carries the inserted count of an upsert, for its status.
    ...(extra ? { totalSql: '(select count(*) from _pgrst_mutation where _pgrst_inserted)' } : {}),
    stripNulls: returning.stripNulls,
  });
  return { text: cte + shaped.text, values: shaped.values };
}
