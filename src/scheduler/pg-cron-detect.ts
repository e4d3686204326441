import type { Database } from '../db/database.ts';

/** Whether pg_cron can run this database's jobs, and from which database. */
export type PgCronAvailability =
  | {
      readonly available: true;
      /** This (the application's) database. */
      readonly database: string;
      /** Where the extension and cron.job live (cron.database_name): jobs are registered there. */
      readonly cronDatabase: string;
      /** extversion, when the extension is in this database; otherwise read at sync. */
      readonly version: string | null;
    }
  | { readonly available: false; readonly reason: string };

/**
 * pg_cron keeps its jobs in one database per cluster (cron.database_name, `postgres` by
 * default) and runs them in any database (cron.schedule_in_database). So the extension is
 * either here (hosted Supabase: the application's database is `postgres`), or the
 * library is loaded and the setting names another database, which only the cron
 * connection can confirm. Asked as the connecting role: the service role cannot read
 * cron.database_name (it needs pg_read_all_settings).
 */
export async function detectPgCron(db: Database): Promise<PgCronAvailability> {
  if (db.engine === 'pglite') return { available: false, reason: 'the embedded database (PGlite) has no pg_cron' };
  const here = await db.driver.transaction((tx) => tx.query<{ database: string; version: string | null }>(
    `select current_database() as database, (select extversion from pg_extension where extname = 'pg_cron') as version`));
  const { database, version } = here.rows[0]!;
  if (version) return { available: true, database, cronDatabase: database, version };
  let cronDatabase: string | null;
  try {
    const setting = await db.driver.transaction((tx) => tx.query<{ name: string | null }>(`select current_setting('cron.database_name', true) as name`));
    cronDatabase = setting.rows[0]!.name;
  } catch (error) {
    return { available: false, reason: `cron.database_name is not readable by this role (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!cronDatabase) return { available: false, reason: 'pg_cron is not loaded by this server (shared_preload_libraries)' };
  return { available: true, database, cronDatabase, version: null };
}
