import type { FastifyReply, FastifyRequest } from 'fastify';
import { buildReadStatement } from './build-read.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { appliedPreferences, checkProfile, negotiate, parsePrefer, parseRange } from './parse-headers.ts';
import { parseQueryParams } from './query-params.ts';
import { planRead, type ReadNode } from './read-plan.ts';
import { header, rawQuery, runTransaction, tableOf } from './request-parts.ts';
import { sendRows, type ResultRow } from './respond.ts';

/** `GET|HEAD /rest/v1/:table`: a read, in one READ ONLY transaction as the request's role. */
export async function handleRead(catalogs: CatalogCache, request: FastifyRequest<{ Params: { table: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  checkProfile(header(request, 'accept-profile'));
  const shape = negotiate(header(request, 'accept'));
  const prefs = parsePrefer(request.headers.prefer);
  const params = parseQueryParams(rawQuery(request));
  const catalog = await catalogs.get();
  const node = withRange(planRead(catalog, tableOf(catalog, request.params.table), params), header(request, 'range'));
  const statement = buildReadStatement(node, { count: prefs.count !== undefined, stripNulls: shape.stripNulls });
  const row = await runTransaction(request, prefs, async (tx) => (await tx.query<ResultRow>(statement.text, statement.values)).rows[0]!, { readOnly: true });
  const applied = appliedPreferences(prefs, ['count', 'tx']);
  return sendRows(reply, row, { offset: node.offset ?? 0, shape, ...(applied ? { extraHeaders: { 'Preference-Applied': applied } } : {}) });
}

/**
 * A `Range: a-b` header narrows the top-level page further, as PostgREST intersects it
 * with limit/offset (supabase-js itself sends limit and offset).
 */
export function withRange(node: ReadNode, range: string | undefined): ReadNode {
  const r = parseRange(range);
  if (!r) return node;
  const queryOffset = node.offset ?? 0;
  const queryEnd = node.limit === undefined ? Infinity : queryOffset + node.limit;
  const rangeEnd = r.limit === undefined ? Infinity : r.offset + r.limit;
  const offset = Math.max(queryOffset, r.offset);
  const end = Math.min(queryEnd, rangeEnd);
  return { ...node, offset, limit: end === Infinity ? undefined : Math.max(0, end - offset) };
}
