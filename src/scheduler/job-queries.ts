import type { Transaction } from '../db/types.ts';
import type { JobChanges, JobDefinition, JobRun, Runner } from './job-definition.ts';

// The scheduler's statements against its own tables, one named function each; the run
// transitions themselves are SQL functions in db/migrations/009_scheduler.sql.

export async function listJobs(tx: Transaction): Promise<JobDefinition[]> {
  return (await tx.query<JobDefinition>('select * from steward.jobs order by name')).rows;
}

export async function getJob(tx: Transaction, name: string): Promise<JobDefinition | undefined> {
  return (await tx.query<JobDefinition>('select * from steward.jobs where name = $1', [name])).rows[0];
}

/** The latest run of each job (for `jobs list`). */
export async function latestRuns(tx: Transaction): Promise<JobRun[]> {
  const res = await tx.query<JobRun>(
    `select r.* from steward.jobs j
       cross join lateral (select * from steward.job_runs r where r.job_name = j.name order by r.started_at desc, r.id desc limit 1) r`);
  return res.rows;
}

export async function setJobEnabled(tx: Transaction, name: string, enabled: boolean, actor: string): Promise<JobDefinition> {
  return (await tx.query<JobDefinition>('select * from steward.set_job_enabled($1, $2, $3)', [name, enabled, actor])).rows[0]!;
}

export async function configureJob(tx: Transaction, name: string, changes: JobChanges, actor: string): Promise<JobDefinition> {
  const res = await tx.query<JobDefinition>('select * from steward.configure_job($1, $2, $3, $4, $5::jsonb)', [
    name, actor, changes.schedule ?? null, changes.timeout_seconds ?? null,
    changes.arguments === undefined ? null : JSON.stringify(changes.arguments),
  ]);
  return res.rows[0]!;
}

/** Newest first; `job` null = every job. */
export async function listRuns(tx: Transaction, job: string | null, limit: number): Promise<JobRun[]> {
  const res = await tx.query<JobRun>(
    `select * from steward.job_runs where $1::text is null or job_name = $1
      order by started_at desc, id desc limit $2`, [job, limit]);
  return res.rows;
}

/** The running or skipped row a run starts with; undefined when paused or the tick is already on record. */
export async function beginJobRun(tx: Transaction, job: string, runner: Runner, tick: Date | null, runnerId: string): Promise<JobRun | undefined> {
  return (await tx.query<JobRun>('select * from steward.begin_job_run($1, $2, $3, $4)', [job, runner, tick, runnerId])).rows[0];
}

/**
 * Runs the target of a running row and records its outcome. The statement timeout is
 * the job's, set for this transaction only and armed by the statement after it.
 */
export async function executeJobRun(tx: Transaction, runId: number): Promise<JobRun> {
  await tx.query(
    `select set_config('statement_timeout', (j.timeout_seconds * 1000)::text, true)
       from steward.job_runs r join steward.jobs j on j.name = r.job_name where r.id = $1`, [runId]);
  return (await tx.query<JobRun>('select * from steward.execute_job_run($1)', [runId])).rows[0]!;
}

export async function failJobRun(tx: Transaction, runId: number, message: string): Promise<JobRun | undefined> {
  return (await tx.query<JobRun>('select * from steward.fail_job_run($1, $2)', [runId, message])).rows[0];
}

export async function skipJobTick(tx: Transaction, job: string, runner: Runner, tick: Date, runnerId: string, busyRun: number | null): Promise<JobRun | undefined> {
  return (await tx.query<JobRun>('select * from steward.skip_job_tick($1, $2, $3, $4, $5)', [job, runner, tick, runnerId, busyRun])).rows[0];
}

/** Ticks of `job` before `before` that nobody ran since its last recorded tick, as one `missed` row. */
export async function recordMissedTicks(tx: Transaction, job: string, before: Date, runner: Runner, runnerId: string): Promise<JobRun | undefined> {
  return (await tx.query<JobRun>('select * from steward.record_missed_ticks($1, $2, $3, $4)', [job, before, runner, runnerId])).rows[0];
}

/** The lease's expiry when `holder` now holds it; undefined when another process does. */
export async function acquireSchedulerLease(tx: Transaction, holder: string, ttlSeconds: number): Promise<Date | undefined> {
  const res = await tx.query<{ expires_at: Date }>('select expires_at from steward.acquire_scheduler_lease($1, $2) as expires_at', [holder, ttlSeconds]);
  return res.rows[0]?.expires_at;
}

export async function releaseSchedulerLease(tx: Transaction, holder: string): Promise<boolean> {
  return (await tx.query<{ released: boolean }>('select steward.release_scheduler_lease($1) as released', [holder])).rows[0]!.released;
}

/** What pg_cron should hold for each job: its schedule, whether active, and the command. */
export async function cronDefinitions(tx: Transaction): Promise<{ name: string; schedule: string; enabled: boolean; command: string }[]> {
  const res = await tx.query<{ name: string; schedule: string; enabled: boolean; command: string }>(
    'select name, schedule, enabled, steward.job_cron_command(name) as command from steward.jobs order by name');
  return res.rows;
}
