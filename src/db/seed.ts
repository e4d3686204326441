import { SEEDS_DIR, readSqlFiles } from './sql-files.ts';
import type { Driver } from './types.ts';

/** Whether any seed has ever been applied here (`steward start` seeds only the first time). */
export async function hasSeeded(driver: Driver): Promise<boolean> {
  return driver.transaction(async (tx) => (await tx.query('select 1 from steward.seeds limit 1')).rowCount > 0);
}

export interface SeedResult {
  applied: string[];
  skipped: string[];
}

/**
 * Applies the seed files not yet recorded in steward.seeds, each in one transaction.
 * The seeds themselves are idempotent too (fixed ids, on conflict do nothing), so a
 * forced re-run never duplicates rows.
 */
export async function seed(driver: Driver, options: { dir?: string; force?: boolean } = {}): Promise<SeedResult> {
  const files = await readSqlFiles(options.dir ?? SEEDS_DIR);
  const result: SeedResult = { applied: [], skipped: [] };
  for (const file of files) {
    const applied = await driver.transaction(async (tx) => {
      const done = await tx.query('select 1 from steward.seeds where name = $1', [file.name]);
      if (done.rowCount > 0 && !options.force) return false;
      await tx.exec(`set local search_path = public, extensions;\n${file.sql}`);
      await tx.query(
        `insert into steward.seeds (name, checksum) values ($1, $2)
         on conflict (name) do update set checksum = excluded.checksum, applied_at = now()`,
        [file.name, file.checksum],
      );
      return true;
    });
    (applied ? result.applied : result.skipped).push(file.name);
  }
  return result;
}
