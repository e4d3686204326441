import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import type { Driver, Engine } from '../../src/db/types.ts';
import { ENGINES, TEST_DATABASE_URL, scratchPostgresDatabase } from './engines.ts';

/** An empty, unmigrated database per engine (for migration-runner tests). */
export interface FreshDatabase {
  driver: Driver;
  /** A second, independent connection to the same database (PostgreSQL only). */
  connectAgain?: () => Driver;
  close(): Promise<void>;
}

export const FRESH_ENGINES: readonly { name: Engine; open(): Promise<FreshDatabase> }[] = ENGINES.map((e) =>
  e.name === 'pglite'
    ? {
        name: e.name,
        async open() {
          const driver = await PGliteDriver.open();
          return { driver, close: () => driver.close() };
        },
      }
    : {
        name: e.name,
        async open() {
          const scratch = await scratchPostgresDatabase(TEST_DATABASE_URL!);
          const drivers: Driver[] = [];
          const connect = (): Driver => {
            const d = new PostgresDriver({ connectionString: scratch.url, max: 2 });
            drivers.push(d);
            return d;
          };
          return {
            driver: connect(),
            connectAgain: connect,
            async close() {
              for (const d of drivers) await d.close();
              await scratch.drop();
            },
          };
        },
      },
);
