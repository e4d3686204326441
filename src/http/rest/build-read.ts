import type { CatalogColumn } from './catalog.ts';
import type { ComparisonOperator, Operation } from './parse-filter.ts';
import type { PlannedCondition, PlannedEmbed, PlannedLogic, PlannedOrder, ReadNode, ResolvedField } from './read-plan.ts';
import { Aliases, Params, qualified, quoteIdent } from './sql.ts';

// SQL for a planned read. The shape is PostgREST's: the rows of a resource are selected
// with their embedded resources as correlated subqueries, and json_agg turns the page
// into the response body in the database, so the body is sent as PostgreSQL wrote it.

export interface StatementContext {
  readonly params: Params;
  readonly aliases: Aliases;
}

export function newStatement(): StatementContext {
  return { params: new Params(), aliases: new Aliases() };
}

/** `alias."col"` with its JSON path; keys and indexes are bound parameters. */
export function fieldSql(ctx: StatementContext, alias: string, field: ResolvedField): string {
  let sql = `${alias}.${quoteIdent(field.column.name)}`;
  for (const step of field.jsonPath) {
    sql += ` ${step.arrow} ${typeof step.key === 'number' ? `${ctx.params.add(step.key)}::int` : `${ctx.params.add(step.key)}::text`}`;
  }
  return field.jsonPath.length === 0 ? sql : `(${sql})`;
}

/** The select list of a node read from `alias`: its columns and its embeds. */
export function selectListSql(ctx: StatementContext, node: ReadNode, alias: string): string {
  return node.items.map((item) => {
    if (item.kind === 'column') {
      const value = fieldSql(ctx, alias, item.field);
      return `${item.cast === undefined ? value : `(${value})::${item.cast}`} as ${quoteIdent(item.name)}`;
    }
    return `${embedSql(ctx, item.embed, alias)} as ${quoteIdent(item.embed.name)}`;
  }).join(', ');
}

/** The rows of an embedded resource that belong to the parent row `parentAlias`. */
function embedRowsSql(ctx: StatementContext, embed: PlannedEmbed, parentAlias: string, childAlias: string, options: { paginate: boolean; selectList: string }): string {
  const node = embed.node;
  const conditions = [
    ...embed.relationship.join.map(([parentColumn, childColumn]) => `${childAlias}.${quoteIdent(childColumn)} = ${parentAlias}.${quoteIdent(parentColumn)}`),
    ...whereSql(ctx, node, childAlias),
  ];
  let sql = `select ${options.selectList} from ${qualified(node.table.name)} as ${childAlias} where ${conditions.join(' and ')}`;
  if (options.paginate) sql += orderLimitSql(ctx, node, childAlias);
  return sql;
}

function embedSql(ctx: StatementContext, embed: PlannedEmbed, parentAlias: string): string {
  const child = ctx.aliases.next();
  const row = ctx.aliases.next();
  const rows = embedRowsSql(ctx, embed, parentAlias, child, { paginate: !embed.relationship.toOne, selectList: selectListSql(ctx, embed.node, child) });
  return embed.relationship.toOne
    ? `(select row_to_json(${row}) from (${rows}) as ${row})`
    : `coalesce((select json_agg(${row}) from (${rows}) as ${row}), '[]'::json)`;
}

/** Whether the parent row has a matching embedded row (for !inner and `rel=not.is.null`). */
function embedExistsSql(ctx: StatementContext, embed: PlannedEmbed, parentAlias: string): string {
  return `exists (${embedRowsSql(ctx, embed, parentAlias, ctx.aliases.next(), { paginate: false, selectList: '1' })})`;
}

/** The node's own conditions on `alias`: its filters, and its inner embeds' existence. */
export function whereSql(ctx: StatementContext, node: ReadNode, alias: string): string[] {
  const conditions = node.filters.map((tree) => logicSql(ctx, tree, alias));
  for (const item of node.items) {
    if (item.kind === 'embed' && item.embed.inner) conditions.push(embedExistsSql(ctx, item.embed, alias));
  }
  return conditions;
}

export function orderLimitSql(ctx: StatementContext, node: { readonly order: readonly PlannedOrder[]; readonly limit: number | undefined; readonly offset: number | undefined }, alias: string): string {
  let sql = '';
  if (node.order.length > 0) {
    sql += ` order by ${node.order.map((o) => `${fieldSql(ctx, alias, o.field)}${o.direction === 'desc' ? ' desc' : ' asc'}${o.nulls === undefined ? '' : o.nulls === 'first' ? ' nulls first' : ' nulls last'}`).join(', ')}`;
  }
  if (node.limit !== undefined) sql += ` limit ${ctx.params.add(node.limit)}::bigint`;
  if (node.offset !== undefined && node.offset > 0) sql += ` offset ${ctx.params.add(node.offset)}::bigint`;
  return sql;
}

export function logicSql(ctx: StatementContext, tree: PlannedLogic, alias: string): string {
  if (tree.kind === 'condition') return conditionSql(ctx, tree.condition, alias);
  const inner = `(${tree.children.map((c) => logicSql(ctx, c, alias)).join(tree.operator === 'and' ? ' and ' : ' or ')})`;
  return tree.negated ? `not ${inner}` : inner;
}

const COMPARISON_SQL: Readonly<Record<ComparisonOperator, string>> = {
  eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'like', ilike: 'ilike', match: '~', imatch: '~*',
  isdistinct: 'is distinct from', cs: '@>', cd: '<@', ov: '&&', sl: '<<', sr: '>>', nxr: '&<', nxl: '&>', adj: '-|-',
};

const TSQUERY_FUNCTION = { fts: 'to_tsquery', plfts: 'plainto_tsquery', phfts: 'phraseto_tsquery', wfts: 'websearch_to_tsquery' } as const;

function conditionSql(ctx: StatementContext, condition: PlannedCondition, alias: string): string {
  if (condition.kind === 'embed_null') {
    const exists = embedExistsSql(ctx, condition.embed, alias);
    return condition.isNull ? `not ${exists}` : exists;
  }
  const sql = operationSql(ctx, fieldSql(ctx, alias, condition.field), condition.field, condition.operation);
  return condition.negated ? `not (${sql})` : sql;
}

function operationSql(ctx: StatementContext, expr: string, field: ResolvedField, operation: Operation): string {
  const { params } = ctx;
  switch (operation.kind) {
    case 'compare': {
      const op = COMPARISON_SQL[operation.operator];
      // PostgREST lets `*` stand for `%` in like patterns (a `%` is awkward in URLs).
      const value = operation.operator === 'like' || operation.operator === 'ilike' ? operation.value.replaceAll('*', '%') : operation.value;
      if (operation.quantifier) return `${expr} ${op} ${operation.quantifier}(${params.add(value)})`;
      return `${expr} ${op} ${params.add(value)}`;
    }
    case 'in': {
      const values = operation.values.length === 1 && operation.values[0] === '' ? [] : operation.values;
      if (values.length === 0) return 'false';
      return `${expr} in (${values.map((v) => params.add(v)).join(', ')})`;
    }
    case 'is':
      switch (operation.value) {
        case 'null': return `${expr} is null`;
        case 'not_null': return `${expr} is not null`;
        case 'true': return `${expr} is true`;
        case 'false': return `${expr} is false`;
        case 'unknown': return `${expr} is unknown`;
      }
      break;
    case 'fts': {
      const config = operation.config === undefined ? '' : `${params.add(operation.config)}::regconfig, `;
      const document = isTsvector(field) ? expr : `to_tsvector(${config}${expr})`;
      return `${document} @@ ${TSQUERY_FUNCTION[operation.operator]}(${config}${params.add(operation.value)}::text)`;
    }
  }
  throw new Error('unreachable');
}

function isTsvector(field: ResolvedField): boolean {
  return field.jsonPath.length === 0 && isTsvectorColumn(field.column);
}

function isTsvectorColumn(column: CatalogColumn): boolean {
  return column.typeName === 'tsvector';
}

export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * The read of `node` from its table: one row with `page_total` (rows in the page),
 * `total` (all matching rows, when counted) and `body` (the page as a JSON array).
 */
export function buildReadStatement(node: ReadNode, options: { count: boolean; stripNulls?: boolean }): Statement {
  const ctx = newStatement();
  const alias = ctx.aliases.next();
  const from = `${qualified(node.table.name)} as ${alias}`;
  return wrapRows(ctx, node, alias, from, { count: options.count, stripNulls: options.stripNulls ?? false });
}

/**
 * The page, total and body of `node`'s rows read from `from` (a table, a CTE or a
 * function call). `total` is the count of all matching rows (ignoring the page) with
 * `count`, or the caller's own expression `totalSql`.
 */
export function wrapRows(ctx: StatementContext, node: ReadNode, alias: string, from: string, options: { count?: boolean; totalSql?: string; stripNulls: boolean }): Statement {
  const where = whereSql(ctx, node, alias);
  const whereText = where.length > 0 ? ` where ${where.join(' and ')}` : '';
  const page = `select ${selectListSql(ctx, node, alias)} from ${from}${whereText}${orderLimitSql(ctx, node, alias)}`;
  const total = options.count ? `(select count(*) from ${from}${whereText})` : options.totalSql ?? 'null::bigint';
  const agg = `coalesce(json_agg(_pgrst_t), '[]'::json)`;
  return {
    text: `select ${total} as total, count(*)::bigint as page_total, ${options.stripNulls ? `json_strip_nulls(${agg})` : agg}::text as body from (${page}) as _pgrst_t`,
    values: ctx.params.values,
  };
}
