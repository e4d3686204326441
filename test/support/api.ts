import { after, before } from 'node:test';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { Engine } from '../../src/db/types.ts';
import { Database } from '../../src/db/database.ts';
import type { Transaction } from '../../src/db/types.ts';
import type { TenantClaims } from '../../src/db/tenant-context.ts';
import { mintToken, projectKeys, type MintOptions, type ProjectKeys } from '../../src/http/auth/tokens.ts';
import { startApiServer, type ApiServer } from '../../src/http/server.ts';
import { forEachEngine, type TestDatabase } from './engines.ts';

/** A secret for test servers (any ≥ 32 characters). */
export const TEST_JWT_SECRET = 'steward-test-secret-0123456789-abcdefghij';

/**
 * Counts the transactions the API server opens, so a test can show that a refused
 * request executed nothing at all.
 */
export class CountingDatabase extends Database {
  transactions = 0;

  override asTenant<T>(claims: TenantClaims, fn: (tx: Transaction) => Promise<T>, options?: { readOnly?: boolean }): Promise<T> {
    this.transactions++;
    return super.asTenant(claims, fn, options);
  }

  override asService<T>(fn: (tx: Transaction) => Promise<T>, options?: { readOnly?: boolean; claims?: Record<string, unknown> }): Promise<T> {
    this.transactions++;
    return super.asService(fn, options);
  }
}

export interface TestApi {
  readonly test: TestDatabase;
  readonly server: ApiServer;
  /** The database the server uses (counts its transactions). */
  readonly db: CountingDatabase;
  readonly keys: ProjectKeys;
  /** /rest/v1 of the running server. */
  readonly rest: string;
  token(options: Omit<MintOptions, 'ttlSeconds'> & { ttlSeconds?: number }): Promise<string>;
  /** supabase-js, unmodified, with `key` as its key (a project key or a minted token). */
  client(key: string): SupabaseClient;
  /** A tenant's client (an authenticated token for `tenantId`). */
  tenant(tenantId: string, options?: { scopes?: string[] }): Promise<SupabaseClient>;
  service(): SupabaseClient;
  anon(): SupabaseClient;
  /** Runs `sql` as the tenant (or the service role) and returns its rows as PostgreSQL's json_agg writes them. */
  sqlJson(as: { tenant: string } | 'service', sql: string, params?: unknown[]): Promise<unknown[]>;
}

export function supabaseClient(url: string, key: string): SupabaseClient {
  // Typed as the untyped-schema client the tests use (createClient infers its schema generics as any).
  return createClient(url, key, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } }) as SupabaseClient;
}

/**
 * Declares suites on every engine, each with a test database of its own (`arrange` runs
 * first, as the owner) and an API server on a free port in front of it.
 */
export function forEachApi(title: string, body: (api: () => TestApi, engine: Engine) => void, options: { arrange?: (test: TestDatabase) => Promise<void> } = {}): void {
  forEachEngine(title, (db, engine) => {
    let api: TestApi | undefined;
    before(async () => {
      const test = db();
      await options.arrange?.(test);
      api = await startTestApi(test);
    });
    after(async () => {
      await api?.server.close();
    });
    body(() => {
      if (!api) throw new Error('api used outside a test');
      return api;
    }, engine);
  });
}

export async function startTestApi(test: TestDatabase): Promise<TestApi> {
  // A second Database over the same driver (closing the test database closes both).
  const db = new CountingDatabase(test.owner);
  const server = await startApiServer({ db, jwtSecret: TEST_JWT_SECRET, port: 0 });
  const keys = await projectKeys(TEST_JWT_SECRET);
  const token = (options: Omit<MintOptions, 'ttlSeconds'> & { ttlSeconds?: number }): Promise<string> => mintToken(TEST_JWT_SECRET, { ttlSeconds: 3600, ...options });
  const client = (key: string): SupabaseClient => supabaseClient(server.url, key);
  return {
    test,
    server,
    db,
    keys,
    rest: `${server.url}/rest/v1`,
    token,
    client,
    tenant: async (tenantId, options = {}) => client(await token({ role: 'authenticated', tenantId, sub: `user-of-${tenantId}`, ...(options.scopes ? { scopes: options.scopes } : {}) })),
    service: () => client(keys.serviceRoleKey),
    anon: () => client(keys.anonKey),
    async sqlJson(as, sql, params = []) {
      const run = async (tx: Transaction): Promise<unknown[]> => {
        const res = await tx.query<{ body: string }>(`select coalesce(json_agg(_t), '[]'::json)::text as body from (${sql}) as _t`, params);
        return JSON.parse(res.rows[0]!.body) as unknown[];
      };
      return as === 'service' ? test.db.asService(run) : test.db.asTenant({ tenant_id: as.tenant }, run);
    },
  };
}
