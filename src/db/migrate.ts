import { StewardError } from '../errors.ts';
import { MIGRATIONS_DIR, readSqlFiles, type SqlFile } from './sql-files.ts';
import type { Driver, Session } from './types.ts';

// Any constant works; it only has to be the same in every Steward process.
const MIGRATION_LOCK_KEY = 7_245_918_301;

const BOOKKEEPING = `
create schema if not exists steward;
create table if not exists steward.migrations (
  version integer primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now()
);
create table if not exists steward.seeds (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now()
);`;

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: SqlFile[];
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

async function readApplied(session: Session): Promise<AppliedMigration[]> {
  const exists = await session.query<{ ok: boolean }>(`select to_regclass('steward.migrations') is not null as ok`);
  if (!exists.rows[0]?.ok) return [];
  const res = await session.query<AppliedMigration>('select version, name, checksum, applied_at from steward.migrations order by version');
  return res.rows;
}

/** Applied files must be unchanged, and every applied version must still exist on disk. */
function compare(files: SqlFile[], applied: AppliedMigration[]): SqlFile[] {
  for (const row of applied) {
    const file = files.find((f) => f.version === row.version);
    if (!file) {
      throw new StewardError('migration_unknown', `migration ${row.name} is applied in the database but missing from db/migrations (is this an older Steward?)`, { field: row.name });
    }
    if (file.checksum !== row.checksum) {
      throw new StewardError('migration_changed', `migration ${file.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); add a new migration instead`, { field: file.name });
    }
  }
  return files.filter((f) => !applied.some((a) => a.version === f.version));
}

export async function migrationStatus(driver: Driver, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const files = await readSqlFiles(dir);
  return driver.withSession(async (session) => {
    const applied = await readApplied(session);
    return { applied, pending: compare(files, applied) };
  });
}

/**
 * Applies the pending migrations in order, each in its own transaction with its
 * bookkeeping row inserted first. A session-level advisory lock makes concurrent
 * migrators (several workers starting at once) wait for each other; the one that comes
 * second finds nothing left to do.
 */
export async function migrate(
  driver: Driver,
  options: { dir?: string; onApply?: (file: SqlFile) => void } = {},
): Promise<MigrateResult> {
  const files = await readSqlFiles(options.dir ?? MIGRATIONS_DIR);
  return driver.withSession(async (session) => {
    await session.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await session.exec(`set client_min_messages = warning; ${BOOKKEEPING}`);
      const applied = await readApplied(session);
      const pending = compare(files, applied);
      for (const file of pending) {
        options.onApply?.(file);
        await session.transaction(async (tx) => {
          await tx.query('insert into steward.migrations (version, name, checksum) values ($1, $2, $3)', [file.version, file.name, file.checksum]);
          await tx.exec(`set local search_path = public, extensions;\n${file.sql}`);
        });
      }
      return { applied: pending.map((f) => f.name), alreadyApplied: applied.map((a) => a.name) };
    } finally {
      await session.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}
