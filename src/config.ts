import { resolve } from 'node:path';
import { z } from 'zod';
import { StewardError } from './errors.ts';

// Configuration is read here and nowhere else: environment variables, validated once.
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  STEWARD_DATA_DIR: z.string().min(1).default('.steward/data'),
  // The DLQ backlog above which `outbox status` exits non-zero (the original's alert
  // fired on any dead letter: outbox_dlq_size > 0).
  STEWARD_DLQ_THRESHOLD: z.coerce.number().int().min(0).default(0),
});

export interface Config {
  /** Set: production mode on PostgreSQL/Supabase. Unset: embedded PGlite in dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly dlqThreshold: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { dataDir?: string } = {}): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'environment');
    throw new StewardError('config_invalid', `${field}: ${issue?.message ?? 'invalid'}`, { field });
  }
  return Object.freeze({
    databaseUrl: parsed.data.DATABASE_URL,
    dataDir: resolve(overrides.dataDir ?? parsed.data.STEWARD_DATA_DIR),
    dlqThreshold: parsed.data.STEWARD_DLQ_THRESHOLD,
  });
}
