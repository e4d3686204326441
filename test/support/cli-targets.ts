import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import type { Driver } from '../../src/db/types.ts';
import { TEST_DATABASE_URL, scratchPostgresDatabase } from './engines.ts';

/** Where a CLI test points `steward`: an embedded data dir, or a scratch PostgreSQL database. */
export interface Target {
  env: Record<string, string>;
  /** Opens the target database directly as its owner (only while no CLI holds it). */
  owner(): Promise<Driver>;
  cleanup(): Promise<void>;
}

export async function embeddedTarget(): Promise<Target> {
  const root = await mkdtemp(join(tmpdir(), 'steward-cli-'));
  const dataDir = join(root, 'data');
  return {
    env: { STEWARD_DATA_DIR: dataDir },
    owner: () => PGliteDriver.open({ dataDir }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export async function postgresTarget(): Promise<Target> {
  const scratch = await scratchPostgresDatabase(TEST_DATABASE_URL!);
  return {
    env: { DATABASE_URL: scratch.url },
    owner: () => Promise.resolve(new PostgresDriver({ connectionString: scratch.url, max: 1 })),
    cleanup: () => scratch.drop(),
  };
}
