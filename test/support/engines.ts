import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { Database } from '../../src/db/database.ts';
import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import type { Driver, Engine } from '../../src/db/types.ts';
import { loadPgliteTemplate, postgresTemplate, withDatabase } from './template.ts';

/**
 * The engines every database test runs on: PGlite always, PostgreSQL when
 * TEST_DATABASE_URL is set (kysely's DIALECTS list). Test files declare their suites with
 * forEachEngine, which calls `engine.open()` once per engine: a migrated database of the
 * file's own, dropped on close.
 */
export interface TestDatabase {
  readonly engine: Engine;
  /** Application access: asTenant / asService. */
  readonly db: Database;
  /** The connecting role itself (a superuser): for arranging and tampering in tests. */
  readonly owner: Driver;
  /** The database's URL, for child processes (PostgreSQL only). */
  readonly url?: string;
  close(): Promise<void>;
}

export interface TestEngine {
  readonly name: Engine;
  open(): Promise<TestDatabase>;
}

const pglite: TestEngine = {
  name: 'pglite',
  async open() {
    const driver = await PGliteDriver.open({ loadDataDir: await loadPgliteTemplate() });
    const db = new Database(driver);
    return { engine: 'pglite', db, owner: driver, close: () => db.close() };
  },
};

function postgres(adminUrl: string): TestEngine {
  return {
    name: 'postgres',
    async open() {
      const template = await postgresTemplate(adminUrl);
      const name = `steward_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name} template ${template}`);
      } finally {
        await admin.end();
      }
      const driver = new PostgresDriver({ connectionString: withDatabase(adminUrl, name), max: 5 });
      const db = new Database(driver);
      return {
        engine: 'postgres',
        db,
        owner: driver,
        url: withDatabase(adminUrl, name),
        async close() {
          await db.close();
          const dropper = new pg.Client({ connectionString: adminUrl });
          await dropper.connect();
          try {
            await dropper.query(`drop database if exists ${name} with (force)`);
          } finally {
            await dropper.end();
          }
        },
      };
    },
  };
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export const ENGINES: readonly TestEngine[] = [pglite, ...(TEST_DATABASE_URL ? [postgres(TEST_DATABASE_URL)] : [])];

/**
 * Declares `describe(`${title} on ${engine}`)` for every engine, with a database of its
 * own opened before and closed after. `body` receives a getter, valid inside tests (and
 * in `before` hooks the body declares, which run after the database is open), and the
 * engine's name, known at declaration time.
 */
export function forEachEngine(title: string, body: (db: () => TestDatabase, engine: Engine) => void): void {
  for (const engine of ENGINES) {
    describe(`${title} on ${engine.name}`, () => {
      let test: TestDatabase | undefined;
      before(async () => {
        test = await engine.open();
      });
      after(async () => {
        await test?.close();
      });
      body(() => {
        if (!test) throw new Error('database used outside a test');
        return test;
      }, engine.name);
    });
  }
}

/** An empty (unmigrated) database on the TEST_DATABASE_URL server, for CLI and migration tests. */
export async function scratchPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `steward_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string): Promise<void> => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await run(`create database ${name}`);
  return { url: withDatabase(adminUrl, name), drop: () => run(`drop database if exists ${name} with (force)`) };
}
