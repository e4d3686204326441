// The runner's superuser connection: the bench database is dropped and created empty
// before every PostgreSQL measurement (Steward's audit_log refuses TRUNCATE, and every
// system installs its own schema), and the server's settings are recorded with the run.
// Nothing else on the server is touched.
import pg from 'pg';

/** `url` with its database replaced by `database`. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The URL without its password, for printing. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bench-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops `database` (ending its sessions) and creates it again, empty. */
export async function recreateDatabase(adminUrl: string, database: string): Promise<void> {
  await withAdmin(adminUrl, async (c) => {
    await c.query('set client_min_messages = warning');
    await c.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
    await c.query(`create database ${pg.escapeIdentifier(database)}`);
  });
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await withAdmin(adminUrl, async (c) => {
    await c.query('set client_min_messages = warning');
    await c.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
  });
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

const SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'max_connections', 'jit'];

export async function serverInfo(adminUrl: string): Promise<ServerInfo> {
  return withAdmin(adminUrl, async (c) => {
    const version = (await c.query<{ v: string }>('select version() as v')).rows[0]!.v;
    const rows = (await c.query<{ name: string; setting: string; unit: string | null }>(
      'select name, setting, unit from pg_settings where name = any($1) order by name', [SETTINGS])).rows;
    return { version, settings: Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting])) };
  });
}
