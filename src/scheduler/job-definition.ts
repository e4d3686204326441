import { z } from 'zod';
import { StewardError } from '../errors.ts';
import { parseSchedule } from './schedule.ts';

// What a job is (steward.jobs) and what a run is (steward.job_runs), and the rules for
// changing a job: validated here, at the boundary, before anything is written.

export interface JobDefinition {
  name: string;
  description: string;
  /** A cron expression (UTC) or `N seconds`: see schedule.ts. */
  schedule: string;
  /** The allow-listed SQL function it calls (steward.job_targets). */
  target: string;
  arguments: Record<string, unknown>;
  /** false = paused: scheduled ticks do nothing (run-now still runs it). */
  enabled: boolean;
  timeout_seconds: number;
  /** Missed ticks are counted from here at the earliest (set on create, resume, new schedule). */
  active_since: Date;
  created_at: Date;
  updated_at: Date;
}

export const RUNNERS = ['pg_cron', 'in_process', 'manual'] as const;
export type Runner = (typeof RUNNERS)[number];
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'missed', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface JobRun {
  id: number;
  job_name: string;
  runner: Runner;
  /** Which process or backend ran it. */
  runner_id: string | null;
  /** The tick it belongs to; null for manual runs. */
  scheduled_for: Date | null;
  started_at: Date;
  finished_at: Date | null;
  status: RunStatus;
  message: string | null;
}

/** The rule of steward.jobs.name (≤ 40 characters so pg_cron's job name, ≤ 63 bytes, can hold it and the database). */
export const jobName = z.string().max(40).regex(/^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/, 'must be lower-case words joined by . _ or -');

// An interval PostgreSQL reads, in whole hours or days (retention below an hour is a mistake).
const retention = z.string().regex(/^[1-9]\d* (hour|hours|day|days)$/, 'must be a number of hours or days, such as "30 days"');
const count = (max: number) => z.number().int().min(1).max(max);

/**
 * The arguments each allow-listed target reads (db/migrations/009_scheduler.sql). A
 * target not listed here (one a deployment added itself) takes any JSON object.
 */
const TARGET_ARGUMENTS: Readonly<Record<string, z.ZodType>> = {
  'catalog.enqueue_refresh': z.strictObject({
    spread_minutes: z.number().int().min(0).max(1440).optional(),
    toolkits: z.array(z.string().min(1).max(100)).max(1000).optional(),
  }),
  'catalog.enqueue_drift': z.strictObject({}),
  'embeddings.reindex': z.strictObject({}),
  'outbox.recover_expired_leases': z.strictObject({
    max_attempts: z.strictObject({ low: count(100), medium: count(100), high: count(100) }).optional(),
    limit: count(100_000).optional(),
  }),
  'outbox.purge_finished': z.strictObject({
    older_than: retention.optional(),
    batch_size: count(100_000).optional(),
    max_batches: count(10_000).optional(),
  }),
  'scheduler.purge_runs': z.strictObject({ older_than: retention.optional() }),
};

export interface JobChanges {
  schedule?: string;
  timeout_seconds?: number;
  arguments?: Record<string, unknown>;
}

const changesSchema = z.strictObject({
  schedule: z.string().optional(),
  timeout_seconds: z.number().int().min(1).max(86_400).optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/** Validates changes to `job` (whose target decides what its arguments may be); the schedule normalised. */
export function validateJobChanges(job: Pick<JobDefinition, 'target'>, input: unknown): JobChanges {
  const parsed = changesSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'input';
    throw new StewardError('invalid_input', `${field}: ${issue?.message ?? 'is invalid'}`, { field });
  }
  const changes: JobChanges = { ...parsed.data };
  if (changes.schedule !== undefined) changes.schedule = parseSchedule(changes.schedule).text;
  if (changes.arguments !== undefined) {
    const schema = TARGET_ARGUMENTS[job.target];
    const args = schema ? schema.safeParse(changes.arguments) : undefined;
    if (args && !args.success) {
      const issue = args.error.issues[0];
      const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.join('.');
      const field = key ? `arguments.${key}` : 'arguments';
      throw new StewardError('invalid_input', `${field}: ${issue?.code === 'unrecognized_keys' ? `is not an argument of ${job.target}` : issue?.message ?? 'is invalid'}`, { field });
    }
  }
  if (Object.keys(changes).length === 0) {
    throw new StewardError('invalid_input', 'nothing to change: give a schedule, a timeout or arguments', { field: 'input' });
  }
  return changes;
}
