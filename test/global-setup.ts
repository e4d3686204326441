import pg from 'pg';
import { ENGINES, TEST_DATABASE_URL } from './support/engines.ts';
import { migrationsKey, pgliteTemplate, postgresTemplate, withDatabase } from './support/template.ts';
import { isProcessAlive } from '../src/db/process-alive.ts';

// Runs once before all test files: says which engines will run, and builds the
// migrated templates so that test files only copy them.
export async function globalSetup(): Promise<void> {
  const names = ENGINES.map((e) => e.name).join(', ');
  console.log(`[steward tests] engines: ${names}${TEST_DATABASE_URL ? '' : ' (PostgreSQL not run: set TEST_DATABASE_URL to include it)'}`);
  await pgliteTemplate();
  if (TEST_DATABASE_URL) {
    await dropStaleDatabases(TEST_DATABASE_URL, await migrationsKey());
    await unscheduleOrphanCronJobs(TEST_DATABASE_URL);
    await postgresTemplate(TEST_DATABASE_URL);
  }
}

/**
 * Test databases left by a killed run, and templates of older migrations. A test
 * database is named steward_test_<pid>_…: it is stale only when that process is gone
 * (an idle one may belong to a run in progress, between two CLI invocations).
 */
async function dropStaleDatabases(url: string, key: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const found = await admin.query<{ datname: string }>(
      `select datname from pg_database
        where (datname like 'steward\\_test\\_%' or datname like 'steward\\_tpl\\_%') and datname <> $1
          and not exists (select from pg_stat_activity a where a.datname = pg_database.datname)`,
      [`steward_tpl_${key}`],
    );
    const stale = found.rows.filter(({ datname }) => {
      const pid = /^steward_test_(\d+)_/.exec(datname)?.[1];
      return pid === undefined || !isProcessAlive(Number(pid));
    });
    for (const { datname } of stale) await admin.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await admin.end();
  }
}

/**
 * pg_cron's jobs of test databases that no longer exist (a run killed before its cleanup):
 * cron.job is one table for the whole server, and such a job fails every time it is due.
 */
async function unscheduleOrphanCronJobs(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let cronDatabase: string | null;
  try {
    cronDatabase = (await admin.query<{ name: string | null }>(`select current_setting('cron.database_name', true) as name`)).rows[0]!.name;
  } finally {
    await admin.end();
  }
  if (!cronDatabase) return;
  const cron = new pg.Client({ connectionString: withDatabase(url, cronDatabase) });
  await cron.connect();
  try {
    await cron.query(
      `select cron.unschedule(jobid) from cron.job
        where database like 'steward\\_test\\_%' and database not in (select datname from pg_database)`);
  } catch {
    // pg_cron loaded but not created there: nothing to clean
  } finally {
    await cron.end();
  }
}
