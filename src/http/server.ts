import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Database } from '../db/database.ts';
import { StewardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { createHealthHandlers, HEALTH_PATHS, type HealthSources } from './health-server.ts';
import { corsPlugin } from './plugins/cors.ts';
import { CatalogCache } from './rest/catalog-cache.ts';
import { restErrors } from './rest/errors.ts';
import { restPlugin, sendError, toApiError } from './rest/plugin.ts';

// The API server: one fastify instance, layered as supabase/storage's is. CORS at the
// root; then, per surface, its own encapsulated context: `/rest/v1` registers auth →
// per-request database context → routes; `/healthz` and `/metrics` are the worker's
// handler, unauthenticated; everything else is a PostgREST-shaped 404.
// Later surfaces (`/realtime/v1`, `/storage/v1`, the console) are further contexts.

/** `supabase start`'s API port. */
export const DEFAULT_API_PORT = 54321;

/** Largest request body accepted (413 beyond): bulk inserts of a few thousand rows fit. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

export interface ApiServerOptions {
  db: Database;
  /** The HS256 secret tokens are verified with (src/http/auth/jwt-secret.ts). */
  jwtSecret: string;
  /** Serves /healthz and /metrics when given (the worker's, or the server's own). */
  health?: HealthSources;
  logger?: Logger;
  bodyLimit?: number;
}

export interface ApiServerParts {
  app: FastifyInstance;
  /** The REST surface's schema cache; refresh() after DDL. */
  catalog: CatalogCache;
}

export async function buildApiServer(options: ApiServerOptions): Promise<ApiServerParts> {
  // Widened to fastify's logger type, so fastify's generics do not carry pino's everywhere.
  const loggerInstance: FastifyBaseLogger | undefined = options.logger;
  const app: FastifyInstance = Fastify({
    ...(loggerInstance ? { loggerInstance } : {}),
    // Per-request lines would drown the worker's logs; failures are logged by sendError.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Close idle keep-alive connections on close(); requests in flight still finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  const catalog = new CatalogCache(options.db);
  // First: routes take the error handler of their context as it is when they are added.
  app.setErrorHandler((error, request, reply) => sendError(reply, toApiError(error, request), request));
  app.setNotFoundHandler((request, reply) => sendError(reply, restErrors.invalidPath(), request));
  keepNoConnectionsWhenClosing(app);
  await app.register(corsPlugin);
  if (options.health) mountHealth(app, options.health);
  await app.register(restPlugin, { prefix: '/rest/v1', db: options.db, catalog, jwtSecret: options.jwtSecret });
  return { app, catalog };
}

/**
 * close() closes idle keep-alive connections, but one whose request is in flight would
 * stay open after its response until the keep-alive timeout (72 s), holding close() up;
 * answering those with `Connection: close` ends them with their response.
 */
function keepNoConnectionsWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });
}

/** The worker's /metrics and /healthz handler, as it is on its own port (health-server.ts). */
function mountHealth(app: FastifyInstance, sources: HealthSources): void {
  const handler = createHealthHandlers(sources);
  for (const url of HEALTH_PATHS) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: (request, reply) => {
        reply.hijack();
        handler(request.raw, reply.raw);
      },
    });
  }
}

export interface ApiServer {
  /** http://host:port, without a path. */
  readonly url: string;
  readonly port: number;
  readonly catalog: CatalogCache;
  /** Stops accepting, lets requests in flight finish, then stops listening for schema reloads. */
  close(): Promise<void>;
}

/** Builds the server and listens on host:port (127.0.0.1 by default; port 0 = any free port). */
export async function startApiServer(options: ApiServerOptions & { port: number; host?: string; onError?: (error: unknown) => void }): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const { app, catalog } = await buildApiServer(options);
  try {
    // The catalog is read before the first request, so a broken database fails here.
    await catalog.get();
    await catalog.listen(options.onError);
    await app.listen({ port: options.port, host });
  } catch (error) {
    await app.close();
    await catalog.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why = code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${code})`;
      throw new StewardError('config_invalid', `API port ${host}:${options.port} ${why}; choose another with --port`, { field: 'port', cause: error });
    }
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    catalog,
    async close() {
      await app.close();
      await catalog.close();
    },
  };
}

