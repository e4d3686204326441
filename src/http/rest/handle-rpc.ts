import type { FastifyReply, FastifyRequest } from 'fastify';
import { buildRpc, chooseFunction, type RpcResult } from './build-rpc.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { restErrors } from './errors.ts';
import { withRange } from './handle-read.ts';
import { appliedPreferences, checkProfile, JSON_MEDIA_TYPE, negotiate, OBJECT_MEDIA_TYPE, parsePrefer } from './parse-headers.ts';
import { parseQueryParams } from './query-params.ts';
import { planRead } from './read-plan.ts';
import { checkPathName, header, rawQuery, runTransaction } from './request-parts.ts';
import { sendRows, unwrapSingle, type ResultRow } from './respond.ts';

/**
 * `POST /rest/v1/rpc/:fn` (arguments in the JSON body) and `GET|HEAD /rest/v1/rpc/:fn`
 * (arguments in the query string). A function returning rows takes select, filters,
 * order and limits like a table; a non-set function answers its one value or object.
 * GET, and POST of a stable or immutable function, run READ ONLY, as in PostgREST.
 */
export async function handleRpc(catalogs: CatalogCache, request: FastifyRequest<{ Params: { fn: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const post = request.method === 'POST';
  checkProfile(header(request, post ? 'content-profile' : 'accept-profile'));
  const shape = negotiate(header(request, 'accept'));
  const prefs = parsePrefer(request.headers.prefer);
  const params = parseQueryParams(rawQuery(request), { rpcRead: !post });
  const catalog = await catalogs.get();

  let args: unknown;
  let argNames: string[];
  if (post) {
    args = request.body ?? {};
    argNames = typeof args === 'object' && args !== null && !Array.isArray(args) ? Object.keys(args) : [];
  } else {
    args = Object.fromEntries(params.rpcArgs);
    argNames = params.rpcArgs.map(([k]) => k);
  }
  if (!catalog.functions.has(request.params.fn)) checkPathName(request.params.fn, 'function');
  const chosen = chooseFunction(catalog, request.params.fn, argNames, { post });
  if (post && !chosen.wholeBody && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw restErrors.invalidBody('Empty or invalid json', 'RPC arguments are a JSON object of named parameters');
  }
  const { fn } = chosen;
  let result: RpcResult;
  const node = fn.resultTable ? withRange(planRead(catalog, fn.resultTable, params), header(request, 'range')) : undefined;
  if (fn.returnsVoid) result = { kind: 'void' };
  else if (node) result = { kind: 'rows', node, count: prefs.count !== undefined && fn.returnsSet, stripNulls: shape.stripNulls };
  else result = { kind: 'scalar', stripNulls: shape.stripNulls };

  const statement = buildRpc({ chosen, args }, result);
  const readOnly = !post || fn.volatility !== 'volatile';
  const row = await runTransaction(request, prefs, async (tx) => (await tx.query<ResultRow>(statement.text, statement.values)).rows[0], { readOnly });
  const applied = appliedPreferences(prefs, ['count', 'tx']);
  if (applied) reply.header('Preference-Applied', applied);
  if (result.kind === 'void' || row === undefined) return reply.code(204).send();
  if (!fn.returnsSet) {
    // One value or one row: the array's only element (a composite result is one row).
    reply.code(200).header('Content-Type', shape.object ? OBJECT_MEDIA_TYPE : JSON_MEDIA_TYPE);
    return reply.send(unwrapSingle(row.body ?? '[null]'));
  }
  return sendRows(reply, row, { offset: node?.offset ?? 0, shape });
}
