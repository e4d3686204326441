import { resolve } from 'node:path';
import { z } from 'zod';
import { StewardError } from './errors.ts';

// Configuration is read here and nowhere else: environment variables, validated once.
// (The OTLP exporter also reads its own standard variables: headers, timeout,
// compression, certificates, temporality; see docs/operations/telemetry.md.)

/** pino's levels; `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  STEWARD_DATA_DIR: z.string().min(1).default('.steward/data'),
  // The DLQ backlog above which `outbox status` exits non-zero (the original's alert
  // fired on any dead letter: outbox_dlq_size > 0).
  STEWARD_DLQ_THRESHOLD: z.coerce.number().int().min(0).default(0),
  STEWARD_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
// The exporter Steward ships speaks OTLP over HTTP with JSON bodies. A collector's
// OTLP/HTTP receiver takes JSON and protobuf on the same path, so http/protobuf (the
// spec's default, often set globally) is accepted; gRPC is a different port and wire.
const httpProtocol = z.enum(['http/json', 'http/protobuf'], {
  error: 'Steward exports OTLP over HTTP (JSON): use http/json and the collector\'s HTTP endpoint (port 4318)',
});
const otlpSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: httpProtocol.optional(),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: httpProtocol.optional(),
  // The spec's defaults: export every 60 s, give up on one export after 30 s.
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().positive().default(60_000),
  OTEL_METRIC_EXPORT_TIMEOUT: z.coerce.number().int().positive().default(30_000),
});

export interface OtlpConfig {
  /** Where metrics are POSTed: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics. */
  readonly metricsUrl: string;
  readonly exportIntervalMs: number;
  readonly exportTimeoutMs: number;
}

export interface Config {
  /** Set: production mode on PostgreSQL/Supabase. Unset: embedded PGlite in dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly dlqThreshold: number;
  readonly logLevel: LogLevel;
  /** Set when an OTLP endpoint is configured (and not switched off): metrics are pushed there too. */
  readonly otlp: OtlpConfig | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { dataDir?: string } = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = parse(envSchema, present);
  return Object.freeze({
    databaseUrl: parsed.DATABASE_URL,
    dataDir: resolve(overrides.dataDir ?? parsed.STEWARD_DATA_DIR),
    dlqThreshold: parsed.STEWARD_DLQ_THRESHOLD,
    // In a terminal the CLI's own lines on stdout already tell each outcome: JSON lines
    // repeating them would drown it, so only warnings and errors unless asked.
    logLevel: parsed.STEWARD_LOG_LEVEL ?? (process.stderr.isTTY ? 'warn' : 'info'),
    otlp: otlpConfig(present),
  });
}

/**
 * OTLP export is on when an endpoint is set, unless switched off the standard ways
 * (OTEL_SDK_DISABLED=true, OTEL_METRICS_EXPORTER=none). Its variables are validated only
 * then: an OTEL_* setting meant for other services must not break `steward tenants list`.
 */
function otlpConfig(env: Record<string, string | undefined>): OtlpConfig | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) return undefined;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env.OTEL_METRICS_EXPORTER?.split(',').some((e) => e.trim().toLowerCase() === 'none')) return undefined;
  const o = parse(otlpSchema, env);
  const base = o.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The exporter's own rule: the per-signal URL verbatim, the base URL with the signal's path.
  const metricsUrl = o.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? `${base!}${base!.endsWith('/') ? '' : '/'}v1/metrics`;
  return Object.freeze({ metricsUrl, exportIntervalMs: o.OTEL_METRIC_EXPORT_INTERVAL, exportTimeoutMs: o.OTEL_METRIC_EXPORT_TIMEOUT });
}

function parse<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'environment');
    throw new StewardError('config_invalid', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}
