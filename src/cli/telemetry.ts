import type { Command } from 'commander';
import type { Database } from '../db/database.ts';
import { StewardError } from '../errors.ts';
import { createHealthHandlers, startHealthServer, type HealthServer } from '../http/health-server.ts';
import { serviceAccess } from '../services/access.ts';
import { SqlOutboxOperations } from '../services/outbox-operations.ts';
import { OutboxMetrics } from '../worker/outbox-metrics.ts';
import { portNumber } from './options.ts';

// /metrics and /healthz for the commands that run the worker (`outbox start`, `start`).

/** 9464: the port OpenTelemetry's Prometheus exporter uses by default. */
export const DEFAULT_METRICS_PORT = 9464;

export interface TelemetryOptions {
  /** false with --no-metrics. */
  metrics: boolean;
  metricsPort: number;
  metricsHost: string;
}

export function addTelemetryOptions(cmd: Command): Command {
  return cmd
    .option('--metrics-port <n>', 'serve /metrics and /healthz on this port (0 = any free port)', portNumber('metrics-port'), DEFAULT_METRICS_PORT)
    .option('--metrics-host <address>', 'the address to serve them on (0.0.0.0 for a scraper elsewhere)', '127.0.0.1')
    .option('--no-metrics', 'do not serve /metrics and /healthz');
}

/** Writes a background failure to stderr; the process carries on. */
export function logError(source: string): (error: unknown) => void {
  return (error) => process.stderr.write(`steward: ${source}: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** The metrics of this process, with the DLQ gauge read from `db` at each scrape. */
export function createMetrics(db: Database): OutboxMetrics {
  const operations = new SqlOutboxOperations(serviceAccess(db));
  return new OutboxMetrics({ dlqSizeByTenant: () => operations.dlqSizeByTenant(), onCollectError: logError('metrics') });
}

/**
 * Serves /metrics and /healthz unless --no-metrics; `isAlive` is the worker's (omitted
 * when the process runs none). A port in use is an error naming the ways out, not a
 * silently missing endpoint that a health check would only find later.
 */
export async function serveTelemetry(db: Database, metrics: OutboxMetrics, isAlive: (() => boolean) | undefined, opts: TelemetryOptions): Promise<HealthServer | undefined> {
  if (!opts.metrics) return undefined;
  const handler = createHealthHandlers({
    metrics,
    ...(isAlive ? { isAlive } : {}),
    pingDatabase: () => db.asService(async (tx) => {
      await tx.query('select 1');
    }),
    onError: logError('health'),
  });
  try {
    return await startHealthServer(handler, { port: opts.metricsPort, host: opts.metricsHost });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${code ?? (error as Error).message})`;
    throw new StewardError('config_invalid', `metrics port ${opts.metricsHost}:${opts.metricsPort} ${why}; choose another with --metrics-port, or --no-metrics`, { field: 'metrics-port', cause: error });
  }
}
