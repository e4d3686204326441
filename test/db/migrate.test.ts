import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrate, migrationStatus } from '../../src/db/migrate.ts';
import { MIGRATIONS_DIR, readSqlFiles } from '../../src/db/sql-files.ts';
import { rejectsWith } from '../support/assert-error.ts';
import { FRESH_ENGINES, type FreshDatabase } from '../support/fresh-driver.ts';

let scratchDir: string;
before(async () => {
  scratchDir = await mkdtemp(join(tmpdir(), 'steward-migrations-'));
});
after(async () => {
  await rm(scratchDir, { recursive: true, force: true });
});

/** A copy of db/migrations that a test may change. */
async function copyOfMigrations(name: string): Promise<string> {
  const dir = join(scratchDir, name);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

for (const engine of FRESH_ENGINES) {
  describe(`migration runner on ${engine.name}`, () => {
    let fresh: FreshDatabase;
    before(async () => {
      fresh = await engine.open();
    });
    after(async () => {
      await fresh.close();
    });

    it('reports every migration pending on an empty database', async () => {
      const files = await readSqlFiles(MIGRATIONS_DIR);
      const status = await migrationStatus(fresh.driver);
      assert.deepEqual(status.applied, []);
      assert.deepEqual(status.pending.map((p) => p.name), files.map((f) => f.name));
    });

    it('applies all migrations once, recording name and checksum; a second run applies nothing', async () => {
      const files = await readSqlFiles(MIGRATIONS_DIR);
      const first = await migrate(fresh.driver);
      assert.deepEqual(first.applied, files.map((f) => f.name));
      const second = await migrate(fresh.driver);
      assert.deepEqual(second.applied, []);
      assert.deepEqual(second.alreadyApplied, files.map((f) => f.name));
      const rows = await fresh.driver.transaction((tx) => tx.query<{ name: string; checksum: string }>('select name, checksum from steward.migrations order by version'));
      assert.deepEqual(rows.rows, files.map((f) => ({ name: f.name, checksum: f.checksum })));
    });

    it('refuses an applied migration whose file changed, naming the file, and applies nothing', async () => {
      const dir = await copyOfMigrations(`changed-${engine.name}`);
      await writeFile(join(dir, '002_auth.sql'), `${await readFile(join(dir, '002_auth.sql'), 'utf8')}\n-- edited\n`);
      await writeFile(join(dir, '900_later.sql'), 'create table public.never_created (id int);');
      await rejectsWith(migrate(fresh.driver, { dir }), 'migration_changed', '002_auth.sql');
      await rejectsWith(migrationStatus(fresh.driver, dir), 'migration_changed', '002_auth.sql');
      const exists = await fresh.driver.transaction((tx) => tx.query<{ t: string | null }>(`select to_regclass('public.never_created')::text as t`));
      assert.equal(exists.rows[0]?.t, null);
    });

    it('refuses a database that has a migration this code does not know', async () => {
      const dir = await copyOfMigrations(`missing-${engine.name}`);
      await rm(join(dir, '004_rls.sql'));
      await rejectsWith(migrate(fresh.driver, { dir }), 'migration_unknown', '004_rls.sql');
    });

    it('applies a file in one transaction: a failing file leaves no trace, not even its bookkeeping row', async () => {
      const dir = await copyOfMigrations(`failing-${engine.name}`);
      await writeFile(join(dir, '900_half.sql'), 'create table public.half_done (id int);\nselect 1 / 0;');
      await assert.rejects(migrate(fresh.driver, { dir }), /division by zero/);
      const state = await fresh.driver.transaction((tx) => tx.query<{ t: string | null; n: number }>(
        `select to_regclass('public.half_done')::text as t, (select count(*) from steward.migrations where version = 900)::int as n`));
      assert.deepEqual(state.rows[0], { t: null, n: 0 });
    });

    it('rejects a file whose name is not NNN_name.sql', async () => {
      const dir = await copyOfMigrations(`badname-${engine.name}`);
      await writeFile(join(dir, '5_oops.sql'), 'select 1;');
      await assert.rejects(migrate(fresh.driver, { dir }), /NNN_name\.sql/);
    });
  });
}

for (const engine of FRESH_ENGINES.filter((e) => e.name === 'postgres')) {
  describe(`concurrent migrators on ${engine.name}`, () => {
    it('two processes migrating one empty database at once: each file applied exactly once, no error', async () => {
      const fresh = await engine.open();
      try {
        const other = fresh.connectAgain!();
        const [a, b] = await Promise.all([migrate(fresh.driver), migrate(other)]);
        const files = (await readSqlFiles(MIGRATIONS_DIR)).map((f) => f.name);
        // One of them did all the work; the other waited on the advisory lock and found none left.
        assert.deepEqual([...a.applied, ...b.applied].sort(), files);
        const count = await fresh.driver.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from steward.migrations'));
        assert.equal(count.rows[0]?.n, files.length);
      } finally {
        await fresh.close();
      }
    });
  });
}
