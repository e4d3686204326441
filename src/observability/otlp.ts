import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { diag, DiagLogLevel, type DiagLogger, type Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InstrumentType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import packageJson from '../../package.json' with { type: 'json' };
import type { OtlpConfig } from '../config.ts';
import { errorMessage, type Logger } from './logger.ts';

// OTLP/HTTP metrics export with the OpenTelemetry SDK: OutboxMetrics records into the
// instruments of the meter this returns (next to prom-client), a periodic reader pushes
// them, and the SDK's exporter does the encoding, retries and standard env variables
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, certificates, temporality).

export interface OtlpMetrics {
  /** Where the metrics go (for people: printed and logged with the password redacted). */
  readonly url: string;
  readonly exportIntervalMs: number;
  readonly meter: Meter;
  /** Exports what has not been exported yet and stops; later calls do nothing. */
  shutdown(): Promise<void>;
}

/**
 * The exporter, with one change: observable gauges are collected with delta temporality.
 * For a gauge that changes only what is reported (the SDK otherwise keeps re-exporting
 * every series a callback ever observed), so outbox_dlq_size behaves as it does on
 * /metrics: a tenant that is gone, or a DLQ read that failed, leaves no stale series.
 */
class FreshGaugeExporter extends OTLPMetricExporter {
  override selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return instrumentType === InstrumentType.OBSERVABLE_GAUGE ? AggregationTemporality.DELTA : super.selectAggregationTemporality(instrumentType);
  }
}

export function startOtlpMetrics(config: OtlpConfig, logger: Logger): OtlpMetrics {
  // The SDK reports failed exports through diag (never by throwing): into the same log.
  diag.setLogger(diagLogger(logger.child({ component: 'otel' })), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const reader = new PeriodicExportingMetricReader({
    exporter: new FreshGaugeExporter({ url: config.metricsUrl }),
    exportIntervalMillis: config.exportIntervalMs,
    // The SDK refuses a timeout longer than the interval; the interval is the user's intent.
    exportTimeoutMillis: Math.min(config.exportTimeoutMs, config.exportIntervalMs),
  });
  const provider = new MeterProvider({ resource: resource(), readers: [reader] });
  let stopping: Promise<void> | undefined;
  return {
    url: config.metricsUrl,
    exportIntervalMs: config.exportIntervalMs,
    meter: provider.getMeter('steward', packageJson.version),
    shutdown() {
      stopping ??= provider.shutdown().catch((error: unknown) => {
        logger.warn({ err: error, component: 'otel' }, `OTLP metrics: final export failed: ${errorMessage(error)}`);
      });
      return stopping;
    },
  };
}

/**
 * service.name "steward" unless OTEL_SERVICE_NAME (or service.name in
 * OTEL_RESOURCE_ATTRIBUTES) says otherwise; a service.instance.id per process, so the
 * cumulative series of two workers never merge into one at the backend (what Prometheus's
 * `instance` label does for scrapes).
 */
function resource() {
  return resourceFromAttributes({
    'service.name': 'steward',
    'service.version': packageJson.version,
    'service.instance.id': randomUUID(),
    'host.name': hostname(),
    'process.pid': process.pid,
  }).merge(detectResources({ detectors: [envDetector] }));
}

function diagLogger(logger: Logger): DiagLogger {
  const log = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (message: string, ...args: unknown[]) => {
    const err = args.find((a) => a instanceof Error) ?? jsonError(message);
    logger[level](err ? { err } : {}, err && !args.includes(err) ? err.message : message);
  };
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), verbose: log('trace') };
}

/**
 * The SDK's default error handler (a failed periodic export ends there) passes the error
 * to diag as JSON text; turn it back into an error so the line reads like the others.
 */
function jsonError(message: string): Error | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as { message?: unknown; stack?: unknown } | null;
    if (typeof parsed?.message !== 'string') return undefined;
    const error = new Error(parsed.message);
    error.stack = typeof parsed.stack === 'string' ? parsed.stack : error.stack;
    return error;
  } catch {
    return undefined;
  }
}
