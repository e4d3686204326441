import type { Database } from '../db/database.ts';
import type { JobRun, Runner } from './job-definition.ts';
import { beginJobRun, executeJobRun, failJobRun } from './job-queries.ts';

export interface RunJobInput {
  job: string;
  runner: Runner;
  /** The tick being run; null for manual runs. */
  tick: Date | null;
  runnerId: string;
  /** Called with the row the run started with (running or skipped). */
  onBegin?: (run: JobRun) => void;
}

/**
 * One run of a job, as the service role, in the two transactions pg_cron's
 * `steward.run_job` procedure also uses (so both write the same rows): begin (the running
 * row is committed, visible while the target runs) then execute (target and outcome
 * commit together). Returns the final row, or undefined when nothing ran: the job is
 * paused or the tick was already on record.
 */
export async function runJob(db: Database, input: RunJobInput): Promise<JobRun | undefined> {
  const started = await db.asService((tx) => beginJobRun(tx, input.job, input.runner, input.tick, input.runnerId));
  if (!started) return undefined;
  input.onBegin?.(started);
  if (started.status !== 'running') return started;
  try {
    return await db.asService((tx) => executeJobRun(tx, started.id));
  } catch (error) {
    // The execute transaction itself failed (the target's own errors are recorded inside
    // it): close the run now rather than leave it for begin_job_run to find abandoned.
    const message = `the run's transaction failed: ${error instanceof Error ? error.message : String(error)}`;
    const failed = await db.asService((tx) => failJobRun(tx, started.id, message)).catch(() => undefined);
    if (failed) return failed;
    throw error;
  }
}
