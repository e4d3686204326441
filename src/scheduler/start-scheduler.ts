import type { Database } from '../db/database.ts';
import { InProcessRunner, type InProcessRunnerOptions } from './in-process-runner.ts';
import { detectPgCron } from './pg-cron-detect.ts';

export interface StartSchedulerOptions extends InProcessRunnerOptions {
  /**
   * auto (default): pg_cron where this database can use it (the database runs the jobs;
   * `steward jobs sync` registers them), else the in-process runner. in_process: the
   * in-process runner regardless (a tick that pg_cron also fires still runs once).
   * off: nothing.
   */
  runner?: 'auto' | 'in_process' | 'off';
}

export interface RunningScheduler {
  readonly mode: 'pg_cron' | 'in_process' | 'off';
  /** One line for people: who runs the jobs. */
  readonly description: string;
  stop(): Promise<void>;
}

/** For `steward start` and `steward jobs start`: runs the jobs in this process unless pg_cron does. */
export async function startScheduler(db: Database, options: StartSchedulerOptions = {}): Promise<RunningScheduler> {
  const runner = options.runner ?? 'auto';
  if (runner === 'off') return { mode: 'off', description: 'scheduler: off', stop: () => Promise.resolve() };
  if (runner === 'auto') {
    const pgCron = await detectPgCron(db);
    if (pgCron.available) {
      return {
        mode: 'pg_cron',
        description: `scheduler: pg_cron (in database ${pgCron.cronDatabase}) runs the jobs; after changing them, run: steward jobs sync`,
        stop: () => Promise.resolve(),
      };
    }
  }
  const inProcess = new InProcessRunner(db, options);
  await inProcess.start();
  return {
    mode: 'in_process',
    description: `scheduler ${inProcess.id}: in-process, ${inProcess.jobs.length} job(s), ${inProcess.isLeader ? 'leading' : 'standing by (another process leads)'}`,
    stop: () => inProcess.stop(),
  };
}
