import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// /metrics and /healthz on plain node:http: a worker process needs no framework for two
// routes, and the API server will mount the same handler for these paths (HEALTH_PATHS).

export interface HealthSources {
  /** The Prometheus text and its Content-Type (OutboxMetrics). */
  metrics: { metrics(): Promise<string>; readonly contentType?: string };
  /** The worker loop is alive (OutboxWorker.isAlive); omitted when the process runs no worker. */
  isAlive?: () => boolean;
  /** Resolves when the database answers a trivial query. */
  pingDatabase: () => Promise<void>;
  /** How long the database may take to answer before /healthz fails; default 2 s. */
  databaseTimeoutMs?: number;
  /** Told why a ping or a scrape failed (the responses say only that it did). */
  onError?: (error: unknown) => void;
}

export interface Health {
  status: 'ok' | 'unavailable';
  worker: 'running' | 'stopped' | 'off';
  database: 'ok' | 'error' | 'timeout';
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export const HEALTH_PATHS: readonly string[] = ['/metrics', '/healthz'];

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Healthy only when both parts are: the worker loop is alive (or there is none) and the
 * database answers in time. A process whose loop died or whose database is gone cannot
 * do its job, so a load balancer or orchestrator should see 503 and act.
 */
export async function checkHealth(sources: HealthSources): Promise<Health> {
  const worker = sources.isAlive === undefined ? 'off' : sources.isAlive() ? 'running' : 'stopped';
  const database = await probe(sources.pingDatabase, sources.databaseTimeoutMs ?? 2000, sources.onError);
  const healthy = worker !== 'stopped' && database === 'ok';
  return { status: healthy ? 'ok' : 'unavailable', worker, database };
}

/** GET (or HEAD) /metrics and /healthz; 405 for other methods on them, 404 elsewhere. */
export function createHealthHandlers(sources: HealthSources): RequestHandler {
  return (req, res) => {
    route(sources, req, res).catch((error: unknown) => {
      sources.onError?.(error);
      if (res.headersSent) res.destroy();
      else send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  };
}

async function route(sources: HealthSources, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  if (path === '/metrics') {
    return send(res, 200, sources.metrics.contentType ?? PROMETHEUS_TEXT, await sources.metrics.metrics());
  }
  const health = await checkHealth(sources);
  send(res, health.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(health));
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  // Node leaves the body out of a HEAD response by itself.
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

async function probe(ping: () => Promise<void>, timeoutMs: number, onError?: (error: unknown) => void): Promise<Health['database']> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const answered = ping().then(
    () => 'ok' as const,
    (error: unknown) => {
      onError?.(error);
      return 'error' as const;
    },
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthServer {
  /** The bound port (the one chosen when 0 was asked). */
  readonly port: number;
  /** http://host:port, without a path. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on host:port (127.0.0.1 by default: expose it deliberately); port 0 = any free port. */
export function startHealthServer(handler: RequestHandler, options: { port: number; host?: string }): Promise<HealthServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject); // EADDRINUSE, EACCES: the caller says what to do
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({ port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => close(server) });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // A scraper's keep-alive connection would hold close() open until it times out.
    server.closeAllConnections();
  });
}
