import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { StewardError } from '../errors.ts';
import { createHealthHandlers, startHealthServer, type HealthServer, type HealthSources } from '../http/health-server.ts';
import { createLogger, errorMessage, redactSecrets, type Logger } from '../observability/logger.ts';
import { startOtlpMetrics, type OtlpMetrics } from '../observability/otlp.ts';
import { serviceAccess } from '../services/access.ts';
import { SqlOutboxOperations } from '../services/outbox-operations.ts';
import { OutboxMetrics } from '../worker/outbox-metrics.ts';
import { portNumber } from './options.ts';

// The telemetry of the commands that run the worker (`outbox start`, `start`): structured
// logs on stderr, the metrics, served on /metrics with /healthz, and pushed over OTLP
// when an endpoint is configured.

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

/** The logger, metrics and OTLP export of one process. */
export interface ProcessTelemetry {
  readonly logger: Logger;
  readonly metrics: OutboxMetrics;
  /** Set when OTLP export is configured (config.otlp). */
  readonly otlp: OtlpMetrics | undefined;
  /**
   * Pushes the last OTLP export and stops it. Call after the worker has stopped (so its
   * last outcomes are in) and before the database closes (the DLQ gauge reads it).
   */
  close(): Promise<void>;
}

/** Logs a background failure as a structured error; the process carries on. */
export function logError(logger: Logger, source: string): (error: unknown, context?: object) => void {
  return (error, context = {}) => logger.error({ err: error, source, ...context }, `${source}: ${errorMessage(error)}`);
}

/**
 * The telemetry for a command: a logger at config.logLevel (unless one is given), the
 * metrics with the DLQ gauge read from `db` at each scrape or export, and the OTLP export
 * when config.otlp is set.
 */
export function createTelemetry(db: Database, config: Config, options: { logger?: Logger } = {}): ProcessTelemetry {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const otlp = config.otlp ? startOtlpMetrics(config.otlp, logger) : undefined;
  if (config.otlp) logger.info({ component: 'otel', url: config.otlp.metricsUrl, interval_ms: config.otlp.exportIntervalMs }, 'OTLP metrics export on');
  const operations = new SqlOutboxOperations(serviceAccess(db));
  const metrics = new OutboxMetrics({
    dlqSizeByTenant: () => operations.dlqSizeByTenant(),
    onCollectError: logError(logger, 'metrics'),
    ...(otlp ? { meter: otlp.meter } : {}),
  });
  return { logger, metrics, otlp, close: async () => otlp?.shutdown() };
}

/** What /healthz and /metrics report, on the metrics port and on the API server alike. */
export function healthSources(db: Database, telemetry: ProcessTelemetry, isAlive: (() => boolean) | undefined): HealthSources {
  return {
    metrics: telemetry.metrics,
    ...(isAlive ? { isAlive } : {}),
    pingDatabase: () => db.asService(async (tx) => {
      await tx.query('select 1');
    }),
    onError: logError(telemetry.logger, 'health'),
  };
}

/** The line the long-running commands print about OTLP export; undefined when it is off. */
export function describeOtlp(telemetry: ProcessTelemetry): string | undefined {
  const otlp = telemetry.otlp;
  return otlp && `otlp: metrics to ${redactSecrets(otlp.url)} every ${otlp.exportIntervalMs / 1000} s`;
}

/**
 * Serves /metrics and /healthz unless --no-metrics; `isAlive` is the worker's (omitted
 * when the process runs none). A port in use is an error naming the ways out, not a
 * silently missing endpoint that a health check would only find later.
 */
export async function serveTelemetry(db: Database, telemetry: ProcessTelemetry, isAlive: (() => boolean) | undefined, opts: TelemetryOptions): Promise<HealthServer | undefined> {
  if (!opts.metrics) return undefined;
  const handler = createHealthHandlers(healthSources(db, telemetry, isAlive));
  try {
    return await startHealthServer(handler, { port: opts.metricsPort, host: opts.metricsHost });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${code ?? (error as Error).message})`;
    throw new StewardError('config_invalid', `metrics port ${opts.metricsHost}:${opts.metricsPort} ${why}; choose another with --metrics-port, or --no-metrics`, { field: 'metrics-port', cause: error });
  }
}
