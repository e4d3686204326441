import type { Transaction } from '../db/types.ts';

// Statements against pg_cron's own schema, run in the database that holds it
// (cron.database_name) as the connecting role: pg_cron registers a job under the role
// that schedules it and runs it as that role.

export interface CronJobRow {
  jobid: number;
  jobname: string;
  schedule: string;
  command: string;
  active: boolean;
}

export async function pgCronVersion(tx: Transaction): Promise<string | null> {
  const res = await tx.query<{ version: string | null }>(`select (select extversion from pg_extension where extname = 'pg_cron') as version`);
  return res.rows[0]!.version;
}

/** Steward's cron jobs for one application database (their names start with `steward:`). */
export async function listCronJobs(tx: Transaction, database: string): Promise<CronJobRow[]> {
  const res = await tx.query<CronJobRow>(
    `select jobid, jobname::text as jobname, schedule, command, active from cron.job
      where database = $1 and jobname like 'steward:%' order by jobname`, [database]);
  return res.rows;
}

export async function scheduleCronJob(tx: Transaction, job: { name: string; schedule: string; command: string; database: string; active: boolean }): Promise<number> {
  const res = await tx.query<{ jobid: number }>(
    'select cron.schedule_in_database($1, $2, $3, $4, null, $5) as jobid',
    [job.name, job.schedule, job.command, job.database, job.active]);
  return res.rows[0]!.jobid;
}

export async function alterCronJob(tx: Transaction, jobid: number, change: { schedule: string; command: string; active: boolean }): Promise<void> {
  await tx.query('select cron.alter_job($1, schedule => $2, command => $3, active => $4)', [jobid, change.schedule, change.command, change.active]);
}

export async function unscheduleCronJob(tx: Transaction, jobid: number): Promise<void> {
  await tx.query('select cron.unschedule($1::bigint)', [jobid]);
}
