import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import { MIGRATIONS_DIR, readSqlFiles } from '../../src/db/sql-files.ts';

// Migrate once, copy per test file (graphile-worker's template database): a fresh
// PGlite with pgvector takes ~2 s to initdb; loading a migrated dump takes ~0.4 s.
// Templates are keyed by the migrations' checksums, so a changed migration makes a
// new template and an unchanged one is reused across runs.

export async function migrationsKey(): Promise<string> {
  const files = await readSqlFiles(MIGRATIONS_DIR);
  return createHash('sha256').update(files.map((f) => f.checksum).join()).digest('hex').slice(0, 16);
}

/** Path of a tarball of a migrated PGlite database, built if missing. */
export async function pgliteTemplate(): Promise<string> {
  const path = join(tmpdir(), `steward-test-pglite-${await migrationsKey()}.tar`);
  if (existsSync(path)) return path;
  const driver = await PGliteDriver.open();
  try {
    await migrate(driver);
    const blob = await driver.dump();
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.from(await blob.arrayBuffer()));
    await rename(tmp, path); // atomic: concurrent builders each write a whole file
  } finally {
    await driver.close();
  }
  return path;
}

export async function loadPgliteTemplate(): Promise<Blob> {
  return new Blob([await readFile(await pgliteTemplate())]);
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Name of a migrated template database on the server, created if missing. */
export async function postgresTemplate(adminUrl: string): Promise<string> {
  const name = `steward_tpl_${await migrationsKey()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Several test processes may arrive at once: one builds, the others wait.
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_building`;
      await admin.query(`drop database if exists ${building} with (force)`);
      await admin.query(`create database ${building}`);
      const driver = new PostgresDriver({ connectionString: withDatabase(adminUrl, building), max: 1 });
      try {
        await migrate(driver);
      } finally {
        await driver.close();
      }
      await admin.query(`alter database ${building} rename to ${name}`);
    }
    await admin.query('select pg_advisory_unlock(hashtext($1))', [name]);
  } finally {
    await admin.end();
  }
  return name;
}
