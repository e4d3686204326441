import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from '../../db/types.ts';
import { buildDelete, buildInsert, buildUpdate, payloadRows, type Returning } from './build-mutation.ts';
import type { Statement } from './build-read.ts';
import type { CatalogCache } from './catalog-cache.ts';
import type { CatalogTable } from './catalog.ts';
import { restErrors } from './errors.ts';
import { appliedPreferences, checkProfile, negotiate, parsePrefer, type Preferences, type ResponseShape } from './parse-headers.ts';
import { parseQueryParams, type QueryParams } from './query-params.ts';
import { planRead, type ReadNode } from './read-plan.ts';
import { header, rawQuery, runTransaction, tableOf } from './request-parts.ts';
import { contentRange, sendJson, toCount, type ResultRow } from './respond.ts';

type WriteRequest = FastifyRequest<{ Params: { table: string } }>;

interface WriteContext {
  table: CatalogTable;
  params: QueryParams;
  prefs: Preferences;
  shape: ResponseShape;
  returning: Returning;
  root: ReadNode;
}

async function writeContext(catalogs: CatalogCache, request: WriteRequest): Promise<WriteContext> {
  checkProfile(header(request, 'content-profile'));
  const shape = negotiate(header(request, 'accept'));
  const prefs = parsePrefer(request.headers.prefer);
  const params = parseQueryParams(rawQuery(request));
  if (params.limits.some((l) => l.path.length === 0) || params.offsets.some((o) => o.path.length === 0)) {
    throw restErrors.notImplemented('limit and offset on insert, update and delete are not supported');
  }
  const catalog = await catalogs.get();
  const table = tableOf(catalog, request.params.table);
  const root = planRead(catalog, table, params);
  let returning: Returning = { kind: 'count' };
  if (prefs.return === 'representation') returning = { kind: 'rows', node: root, stripNulls: shape.stripNulls };
  // headers-only: the new row's primary key, for its Location.
  if (prefs.return === 'headers-only' && table.primaryKey.length > 0) {
    returning = { kind: 'rows', stripNulls: false, node: { ...root, items: table.primaryKey.map((name) => ({ kind: 'column', field: { column: table.columnsByName.get(name)!, jsonPath: [] }, name })) } };
  }
  return { table, params, prefs, shape, returning, root };
}

interface Outcome {
  /** Rows changed (or returned). */
  affected: number;
  /** Rows an upsert inserted, when it could tell. */
  inserted: number | undefined;
  body: string | undefined;
}

/** Runs the statement in the request's transaction; a single() that does not get exactly one row rolls it back (PGRST116). */
async function execute(request: FastifyRequest, statement: Statement, ctx: WriteContext): Promise<Outcome> {
  return runTransaction(request, ctx.prefs, async (tx: Transaction) => {
    const res = await tx.query<ResultRow>(statement.text, statement.values);
    if (ctx.returning.kind === 'count') return { affected: res.rowCount, inserted: undefined, body: undefined };
    const row = res.rows[0]!;
    const affected = Number(row.page_total);
    if (ctx.shape.object && ctx.prefs.return === 'representation' && affected !== 1) throw restErrors.singularity(affected);
    return { affected, inserted: toCount(row.total), body: row.body ?? '[]' };
  });
}

function finish(reply: FastifyReply, ctx: WriteContext, outcome: Outcome, status: { withBody: number; withoutBody: number }, range: string, applied: (keyof Preferences)[], extra: Record<string, string> = {}): FastifyReply {
  const prefer = appliedPreferences(ctx.prefs, applied);
  reply.headers({ 'Content-Range': range, ...extra, ...(prefer ? { 'Preference-Applied': prefer } : {}) });
  if (ctx.prefs.return === 'representation' && outcome.body !== undefined) {
    reply.code(status.withBody);
    return sendJson(reply, outcome.body, ctx.shape.object);
  }
  return reply.code(status.withoutBody).send();
}

/** `POST /rest/v1/:table`: insert one row or many; with `Prefer: resolution=…`, an upsert. */
export async function handleInsert(catalogs: CatalogCache, request: WriteRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ctx = await writeContext(catalogs, request);
  const { table, params, prefs } = ctx;
  const { rows, columns } = payloadRows(table, request.body, { columns: params.columns, allowArray: true });
  let onConflict: Parameters<typeof buildInsert>[0]['onConflict'];
  if (prefs.resolution !== undefined) {
    const names = params.onConflict ?? table.primaryKey;
    if (names.length > 0) {
      const conflictColumns = names.map((name) => {
        const column = table.columnsByName.get(name);
        if (!column) throw restErrors.undefinedColumn(table.name, name);
        return column;
      });
      onConflict = { columns: conflictColumns, resolution: prefs.resolution };
    }
  }
  const outcome = rows.length === 0
    ? { affected: 0, inserted: 0, body: '[]' }
    : await execute(request, buildInsert({ table, rows, columns, missingDefault: prefs.missing === 'default', ...(onConflict ? { onConflict } : {}) }, ctx.returning), ctx);
  const extra: Record<string, string> = {};
  if (prefs.return === 'headers-only' && outcome.body !== undefined) {
    const location = locationOf(table, outcome.body);
    if (location) extra.Location = location;
  }
  // An upsert that inserted nothing (every row merged) is 200, as in PostgREST.
  const created = onConflict?.resolution === 'merge-duplicates' && outcome.inserted === 0 ? 200 : 201;
  return finish(reply, ctx, outcome, { withBody: created, withoutBody: created }, contentRange(1, 0, prefs.count ? outcome.affected : undefined), ['return', 'count', 'resolution', 'missing', 'tx'], extra);
}

/** `PATCH /rest/v1/:table?filters`: update the matching rows with the body's columns. */
export async function handleUpdate(catalogs: CatalogCache, request: WriteRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ctx = await writeContext(catalogs, request);
  const { rows: [values = {}], columns } = payloadRows(ctx.table, request.body ?? {}, { columns: undefined, allowArray: false });
  const outcome = columns.length === 0
    ? { affected: 0, inserted: undefined, body: '[]' }
    : await execute(request, buildUpdate({ table: ctx.table, values, columns, filters: ctx.root.filters }, ctx.returning), ctx);
  return finish(reply, ctx, outcome, { withBody: 200, withoutBody: 204 }, contentRange(0, outcome.affected - 1, ctx.prefs.count ? outcome.affected : undefined), ['return', 'count', 'tx']);
}

/** `DELETE /rest/v1/:table?filters`. */
export async function handleDelete(catalogs: CatalogCache, request: WriteRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ctx = await writeContext(catalogs, request);
  const outcome = await execute(request, buildDelete({ table: ctx.table, filters: ctx.root.filters }, ctx.returning), ctx);
  return finish(reply, ctx, outcome, { withBody: 200, withoutBody: 204 }, contentRange(1, 0, ctx.prefs.count ? outcome.affected : undefined), ['return', 'count', 'tx']);
}

/** `/table?id=eq.1` for a single inserted row of a table with a primary key. */
function locationOf(table: CatalogTable, body: string): string | undefined {
  const rows = JSON.parse(body) as Record<string, unknown>[];
  if (rows.length !== 1 || table.primaryKey.length === 0) return undefined;
  const query = table.primaryKey.map((k) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(rows[0]![k]))}`).join('&');
  return `/${encodeURIComponent(table.name)}?${query}`;
}
