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
  // Checked only where it is used (configuredJwtSecret): `steward tenants list` must not
  // fail over a secret only the API server needs.
  STEWARD_JWT_SECRET: z.string().optional(),
});

/** HS256 keys shorter than this are guessable offline from any token they signed. */
export const MIN_JWT_SECRET_LENGTH = 32;

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

/** Which embedder evidence search uses (src/evidence/embedders/; docs/implementation/evidence-and-search.md). */
export const EMBEDDERS = ['default', 'gte-small', 'openai', 'hashing'] as const;
export type EmbedderConfig =
  | { readonly kind: 'default' }
  | { readonly kind: 'hashing' }
  | { readonly kind: 'gte-small'; readonly modelDir: string }
  | { readonly kind: 'openai'; readonly url: string; readonly apiKey: string | undefined; readonly model: string };

const embedderSchema = z.object({
  STEWARD_EMBEDDER: z.enum(EMBEDDERS, { error: `must be one of ${EMBEDDERS.join(', ')}` }).default('default'),
  STEWARD_MODEL_DIR: z.string().min(1).optional(),
  STEWARD_EMBEDDINGS_URL: httpUrl.optional(),
  STEWARD_EMBEDDINGS_KEY: z.string().min(1).optional(),
  STEWARD_EMBEDDINGS_MODEL: z.string().min(1).max(200).optional(),
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
  /** STEWARD_JWT_SECRET as given (unchecked); read it through configuredJwtSecret. */
  readonly jwtSecret: string | undefined;
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
    jwtSecret: parsed.STEWARD_JWT_SECRET,
  });
}

/**
 * STEWARD_EMBEDDER and what it needs: gte-small a model directory, openai a URL and a
 * model (the key is optional: local servers often take none). Read by the commands that
 * embed, not by loadConfig: `steward tenants list` must not fail over a model setting.
 */
export function embedderConfig(env: Record<string, string | undefined>): EmbedderConfig {
  const e = parse(embedderSchema, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  const required = (field: keyof typeof e, why: string): string => {
    const value = e[field];
    if (value === undefined) throw new StewardError('config_invalid', `${field}: required when ${why}`, { field });
    return value;
  };
  switch (e.STEWARD_EMBEDDER) {
    case 'gte-small':
      return Object.freeze({ kind: 'gte-small', modelDir: resolve(required('STEWARD_MODEL_DIR', 'STEWARD_EMBEDDER=gte-small')) });
    case 'openai':
      return Object.freeze({
        kind: 'openai',
        url: required('STEWARD_EMBEDDINGS_URL', 'STEWARD_EMBEDDER=openai'),
        apiKey: e.STEWARD_EMBEDDINGS_KEY,
        model: required('STEWARD_EMBEDDINGS_MODEL', 'STEWARD_EMBEDDER=openai'),
      });
    default:
      return Object.freeze({ kind: e.STEWARD_EMBEDDER });
  }
}

/**
 * The API server's HS256 secret from STEWARD_JWT_SECRET, checked. On PostgreSQL
 * (DATABASE_URL) it is required: every process serving or minting tokens for one database
 * must share it, so none may invent its own. Undefined means embedded mode without one,
 * where the data directory's generated secret is used (src/http/auth/jwt-secret.ts).
 */
export function configuredJwtSecret(config: Config): string | undefined {
  const secret = config.jwtSecret;
  if (secret === undefined) {
    if (!config.databaseUrl) return undefined;
    throw new StewardError('config_invalid', `STEWARD_JWT_SECRET is not set: on PostgreSQL (DATABASE_URL) the API server needs the secret that signs its tokens (at least ${MIN_JWT_SECRET_LENGTH} characters, e.g. from: openssl rand -base64 32)`, { field: 'STEWARD_JWT_SECRET' });
  }
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new StewardError('config_invalid', `STEWARD_JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters (it has ${secret.length})`, { field: 'STEWARD_JWT_SECRET' });
  }
  return secret;
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

export interface ComposioConfig {
  readonly apiKey: string;
  readonly baseUrl: string;
}

/** Composio's own API; COMPOSIO_BASE_URL points elsewhere (a proxy, or the local fake). */
export const DEFAULT_COMPOSIO_BASE_URL = 'https://backend.composio.dev';

const composioSchema = z.object({
  COMPOSIO_API_KEY: z.string().trim().min(1).optional(),
  COMPOSIO_BASE_URL: httpUrl.default(DEFAULT_COMPOSIO_BASE_URL),
});

/**
 * COMPOSIO_API_KEY and COMPOSIO_BASE_URL; undefined without a key (the worker then runs
 * the sandbox executor). Read by the commands that talk to Composio, not by loadConfig.
 */
export function composioConfig(env: Record<string, string | undefined> = process.env): ComposioConfig | undefined {
  const e = parse(composioSchema, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (e.COMPOSIO_API_KEY === undefined) return undefined;
  return Object.freeze({ apiKey: e.COMPOSIO_API_KEY, baseUrl: e.COMPOSIO_BASE_URL });
}

export interface SupabaseConfig {
  /** The project URL (supabase-js appends /rest/v1). */
  readonly url: string;
  readonly serviceRoleKey: string;
}

const supabaseSchema = z.object({
  SUPABASE_URL: httpUrl.optional(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().trim().min(1).optional(),
});

/**
 * SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY: the services then run over REST
 * (src/services/rest) — unless DATABASE_URL is set, which wins. undefined when either
 * is missing; one without the other is a config error, not a silent fallback to SQL.
 */
export function supabaseConfig(env: Record<string, string | undefined> = process.env): SupabaseConfig | undefined {
  const e = parse(supabaseSchema, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (e.SUPABASE_URL === undefined && e.SUPABASE_SERVICE_ROLE_KEY === undefined) return undefined;
  if (e.SUPABASE_URL === undefined || e.SUPABASE_SERVICE_ROLE_KEY === undefined) {
    const missing = e.SUPABASE_URL === undefined ? 'SUPABASE_URL' : 'SUPABASE_SERVICE_ROLE_KEY';
    throw new StewardError('config_invalid', `${missing} is missing: set both SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, or neither`, { field: missing });
  }
  if (env.DATABASE_URL) return undefined;
  return Object.freeze({ url: e.SUPABASE_URL, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY });
}
