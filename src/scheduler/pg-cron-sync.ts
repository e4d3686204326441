import { createHash } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { PostgresDriver } from '../db/postgres-driver.ts';
import type { Driver, Transaction } from '../db/types.ts';
import { StewardError } from '../errors.ts';
import { cronDefinitions } from './job-queries.ts';
import { detectPgCron } from './pg-cron-detect.ts';
import { alterCronJob, listCronJobs, pgCronVersion, scheduleCronJob, unscheduleCronJob, type CronJobRow } from './pg-cron-queries.ts';
import { parseSchedule } from './schedule.ts';

/** Opens a connection to another database of the same server (pg_cron's), as the same role. */
export type CronConnector = (database: string) => Driver;

export function cronConnectorFor(databaseUrl: string): CronConnector {
  return (database) => {
    const url = new URL(databaseUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    return new PostgresDriver({ connectionString: url.toString(), max: 1, applicationName: 'steward-jobs-sync' });
  };
}

/**
 * pg_cron's name for a job: unique per role across every database of the server (cron.job
 * is one table), so it carries the database; at most 63 bytes (the column is a `name`),
 * so a long database name is replaced by a hash of it.
 */
export function cronJobName(job: string, database: string): string {
  const plain = `steward:${job}@${database}`;
  if (Buffer.byteLength(plain) <= 63) return plain;
  return `steward:${job}@${createHash('sha256').update(database).digest('hex').slice(0, 12)}`;
}

export type SyncAction = 'created' | 'updated' | 'paused' | 'resumed' | 'unchanged' | 'removed' | 'refused';

export interface SyncChange {
  /** Steward's job (for a removed cron job: what its name says). */
  job: string;
  cron_job: string;
  /** cron.job.jobid; null when not (or no longer) registered. */
  jobid: number | null;
  action: SyncAction;
  active: boolean;
  detail?: string;
}

export interface SyncReport {
  database: string;
  cron_database: string;
  pg_cron_version: string;
  dry_run: boolean;
  changes: SyncChange[];
}

export interface SyncOptions {
  /** Only this job (pause/resume/configure bring one job's cron entry up to date). */
  job?: string;
  /** Leave jobs that pg_cron does not hold yet alone (for changes applied after a pause). */
  onlyRegistered?: boolean;
  /** Report what would change, change nothing (`jobs sync --dry-run`). */
  dryRun?: boolean;
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return !!m && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

/**
 * `steward jobs sync`: makes pg_cron hold exactly Steward's jobs, each as
 * `call steward.run_job('<job>')` in this database, active when the job is enabled.
 * Registers what is missing (cron.schedule_in_database), corrects what differs
 * (cron.alter_job: pausing and resuming map to its `active`), unregisters cron jobs of
 * jobs that no longer exist, and leaves the rest untouched: a second sync changes nothing.
 * All in one transaction in pg_cron's database.
 */
export async function syncPgCron(db: Database, connect: CronConnector, options: SyncOptions = {}): Promise<SyncReport> {
  const where = await detectPgCron(db);
  if (!where.available) throw new StewardError('not_found', `pg_cron is not available: ${where.reason}; the in-process runner (steward start, steward jobs start) runs the jobs instead`);
  const definitions = (await db.asService((tx) => cronDefinitions(tx))).filter((d) => !options.job || d.name === options.job);
  const cronDriver = where.cronDatabase === where.database ? undefined : connect(where.cronDatabase);
  try {
    return await (cronDriver ?? db.driver).transaction(async (tx) => {
      const version = where.version ?? (await pgCronVersion(tx));
      if (!version) {
        throw new StewardError('not_found', `pg_cron is loaded but not created in database ${where.cronDatabase} (run: create extension pg_cron, there)`);
      }
      const existing = new Map((await listCronJobs(tx, where.database)).map((row) => [row.jobname, row]));
      const changes: SyncChange[] = [];
      for (const def of definitions) {
        const name = cronJobName(def.name, where.database);
        const row = existing.get(name);
        existing.delete(name);
        const change = await syncOne(tx, { ...def, cronName: name, database: where.database, version, row }, options);
        if (change) changes.push(change);
      }
      // What is left belongs to jobs that no longer exist (or to an older naming).
      if (!options.job) {
        for (const row of existing.values()) {
          if (!options.dryRun) await unscheduleCronJob(tx, row.jobid);
          changes.push({ job: row.jobname.replace(/^steward:/, '').replace(/@.*$/, ''), cron_job: row.jobname, jobid: null, action: 'removed', active: false });
        }
      }
      return { database: where.database, cron_database: where.cronDatabase, pg_cron_version: version, dry_run: !!options.dryRun, changes };
    });
  } finally {
    await cronDriver?.close();
  }
}

interface Desired {
  name: string;
  cronName: string;
  schedule: string;
  command: string;
  enabled: boolean;
  database: string;
  version: string;
  row: CronJobRow | undefined;
}

async function syncOne(tx: Transaction, d: Desired, options: SyncOptions): Promise<SyncChange | undefined> {
  const base = { job: d.name, cron_job: d.cronName, active: d.enabled };
  if (parseSchedule(d.schedule).kind === 'interval' && !versionAtLeast(d.version, 1, 5)) {
    return { ...base, jobid: d.row?.jobid ?? null, action: 'refused', active: d.row?.active ?? false,
      detail: `pg_cron ${d.version} cannot run "${d.schedule}" (second intervals need pg_cron 1.5+); use a cron expression` };
  }
  if (!d.row) {
    if (options.onlyRegistered) return undefined;
    const jobid = options.dryRun ? null : await scheduleCronJob(tx, { name: d.cronName, schedule: d.schedule, command: d.command, database: d.database, active: d.enabled });
    return { ...base, jobid, action: 'created' };
  }
  const { jobid } = d.row;
  if (d.row.schedule !== d.schedule || d.row.command !== d.command) {
    if (!options.dryRun) await alterCronJob(tx, jobid, { schedule: d.schedule, command: d.command, active: d.enabled });
    return { ...base, jobid, action: 'updated', detail: d.row.schedule !== d.schedule ? `schedule ${d.row.schedule} → ${d.schedule}` : 'command' };
  }
  if (d.row.active !== d.enabled) {
    if (!options.dryRun) await alterCronJob(tx, jobid, { schedule: d.schedule, command: d.command, active: d.enabled });
    return { ...base, jobid, action: d.enabled ? 'resumed' : 'paused' };
  }
  return { ...base, jobid, action: 'unchanged' };
}
