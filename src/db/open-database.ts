import type { Config } from '../config.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { Database } from './database.ts';
import { PGliteDriver } from './pglite-driver.ts';
import { PostgresDriver } from './postgres-driver.ts';

export interface OpenedDatabase {
  db: Database;
  /** Where the data lives, for people: the data dir, or the URL without its password. */
  location: string;
}

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export async function openDatabase(config: Config): Promise<OpenedDatabase> {
  if (config.databaseUrl) {
    const driver = new PostgresDriver({ connectionString: config.databaseUrl });
    return { db: new Database(driver), location: redactUrl(config.databaseUrl) };
  }
  const lock = DataDirLock.acquire(config.dataDir);
  try {
    const driver = await PGliteDriver.open({ dataDir: config.dataDir });
    return { db: new Database(driver, { onClose: () => lock.release() }), location: config.dataDir };
  } catch (error) {
    lock.release();
    throw error;
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
