import type { Driver } from './types.ts';

/**
 * Drops everything Steward's migrations created in a server database: the `steward`
 * schema (bookkeeping, internal functions; its event triggers go with their functions)
 * and the `public` schema, recreated empty with PostgreSQL's default privileges. Roles,
 * `auth` and `extensions` stay: they may predate Steward (Supabase), and the migrations
 * create them only where absent.
 */
export async function resetDatabase(driver: Driver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.exec(`
      set local client_min_messages = warning;
      drop schema if exists steward cascade;
      drop schema if exists public cascade;
      create schema public authorization pg_database_owner;
      grant usage on schema public to public;`);
  });
}
