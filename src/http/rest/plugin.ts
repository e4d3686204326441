import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.ts';
import { StewardError } from '../../errors.ts';
import { ApiError } from '../api-error.ts';
import { authPlugin } from '../plugins/auth.ts';
import { dbContextPlugin } from '../plugins/db-context.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { fromDatabaseFailure, restErrors } from './errors.ts';
import { handleRead } from './handle-read.ts';
import { handleRpc } from './handle-rpc.ts';
import { handleDelete, handleInsert, handleUpdate } from './handle-write.ts';

export interface RestPluginOptions extends Record<string, unknown> {
  db: Database;
  catalog: CatalogCache;
  jwtSecret: string;
}

/**
 * `/rest/v1`: PostgREST's surface over the catalog, in its own context with the auth and
 * per-request database layers in front of the routes. There are no per-table routes:
 * `:table` and `:fn` are looked up in the catalog on every request.
 */
export const restPlugin: FastifyPluginAsync<RestPluginOptions> = async (app, options) => {
  registerJsonBody(app);
  app.setErrorHandler((error, request, reply) => sendError(reply, toApiError(error, request), request));
  await app.register(authPlugin, { jwtSecret: options.jwtSecret });
  await app.register(dbContextPlugin, { db: options.db });
  // One debug line per request, with the tenant, for following a client's traffic.
  app.addHook('onResponse', (request, reply, done) => {
    const claims = (request.auth as typeof request.auth | null)?.claims;
    request.log.debug({ tenant_id: claims?.tenant_id, role: claims?.role, method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'rest request');
    done();
  });

  const { catalog } = options;
  app.get<{ Params: { fn: string } }>('/rpc/:fn', (request, reply) => handleRpc(catalog, request, reply));
  app.post<{ Params: { fn: string } }>('/rpc/:fn', (request, reply) => handleRpc(catalog, request, reply));
  app.get<{ Params: { table: string } }>('/:table', (request, reply) => handleRead(catalog, request, reply));
  app.post<{ Params: { table: string } }>('/:table', (request, reply) => handleInsert(catalog, request, reply));
  app.patch<{ Params: { table: string } }>('/:table', (request, reply) => handleUpdate(catalog, request, reply));
  app.delete<{ Params: { table: string } }>('/:table', (request, reply) => handleDelete(catalog, request, reply));
  app.route({ method: ['PUT'], url: '/:table', handler: (request) => Promise.reject(restErrors.unsupportedMethod(request.method)) });
  app.route({ method: ['PATCH', 'DELETE', 'PUT'], url: '/rpc/:fn', handler: (request) => Promise.reject(restErrors.invalidRpcMethod(request.method)) });
};

/**
 * JSON bodies as PostgREST takes them: an empty body is no body (supabase-js sends
 * `Content-Type: application/json` with its bodiless DELETE), invalid JSON is PGRST102.
 */
function registerJsonBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    const type = request.headers['content-type'];
    if (type !== undefined && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
      return done(new ApiError(415, 'PGRST107', `Content-Type not acceptable: ${type}`, { hint: 'Send application/json' }), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(restErrors.invalidBody('Empty or invalid json', error instanceof Error ? error.message : undefined), undefined);
    }
  });
}

/** Every failure as PostgREST would answer it; anything unforeseen is an opaque 500. */
export function toApiError(error: unknown, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const authed = (request.auth as typeof request.auth | null)?.role !== undefined && request.auth.role !== 'anon';
  const fromDatabase = fromDatabaseFailure(error, authed);
  if (fromDatabase) return fromDatabase;
  const status = (error as Partial<FastifyError>).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own refusals: a body too large, a malformed URL.
    const code = (error as FastifyError).code?.startsWith('FST_ERR_CTP') ? 'PGRST102' : 'PGRST100';
    return new ApiError(status, code, (error as Error).message);
  }
  if (error instanceof StewardError && error.code === 'invalid_input') return new ApiError(400, 'PGRST100', error.message);
  return new ApiError(500, 'PGRSTX00', 'Internal server error', { cause: error });
}

export function sendError(reply: FastifyReply, error: ApiError, request: FastifyRequest): FastifyReply {
  if (error.status >= 500) request.log.error({ err: error.cause ?? error, url: request.url, method: request.method }, `request failed: ${error.message}`);
  return reply.code(error.status).headers({ ...error.headers, 'Content-Type': 'application/json; charset=utf-8' }).send(JSON.stringify(error.body()));
}
