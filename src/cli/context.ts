import { loadConfig, type Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { migrate, migrationStatus } from '../db/migrate.ts';
import { openDatabase } from '../db/open-database.ts';
import { StewardError } from '../errors.ts';

export interface GlobalOptions {
  dataDir?: string;
}

export interface CommandContext {
  config: Config;
  db: Database;
  /** The data dir, or the redacted DATABASE_URL. */
  location: string;
  embedded: boolean;
}

/** The configuration for a command: the environment, with --data-dir on top. */
export function configFrom(options: GlobalOptions): Config {
  return loadConfig(process.env, options.dataDir ? { dataDir: options.dataDir } : {});
}

/**
 * Opens the configured database for one command and always closes it (an open PGlite
 * keeps the process alive). Embedded data dirs are Steward's own, so they are migrated
 * on open; on a server, a command refuses to run against an out-of-date schema.
 */
export async function withDatabase<T>(
  options: GlobalOptions,
  fn: (ctx: CommandContext) => Promise<T>,
  { schema = 'current' }: { schema?: 'current' | 'any' } = {},
): Promise<T> {
  const config = configFrom(options);
  const { db, location } = await openDatabase(config);
  try {
    const embedded = !config.databaseUrl;
    if (schema === 'current') {
      if (embedded) {
        await migrate(db.driver);
      } else {
        const { pending } = await migrationStatus(db.driver);
        if (pending.length > 0) {
          throw new StewardError('migrations_pending', `${location} has ${pending.length} pending migration(s) (${pending.map((p) => p.name).join(', ')}); run: steward db migrate`);
        }
      }
    }
    return await fn({ config, db, location, embedded });
  } finally {
    await db.close();
  }
}
