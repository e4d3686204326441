import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../db/database.ts';
import type { Transaction } from '../../db/types.ts';
import type { AuthContext } from '../auth/authenticate.ts';
import { sharedPlugin } from './shared-plugin.ts';

/** The request's way into the database: one transaction, as the request's role and claims. */
export interface RequestDatabase {
  /** Ran with a token for a role other than anon (PostgREST's "authed": 42501 → 403, else 401). */
  readonly authed: boolean;
  run<T>(fn: (tx: Transaction) => Promise<T>, options?: { readOnly?: boolean }): Promise<T>;
}

declare module 'fastify' {
  interface FastifyRequest {
    database: RequestDatabase;
  }
}

export interface DbContextPluginOptions extends Record<string, unknown> {
  db: Database;
}

/**
 * Second layer, after authPlugin: `request.database.run(fn)` opens the request's one
 * transaction with its JWT role set transaction-locally and its claims in
 * `request.jwt.claims` (Database.asTenant for anon and authenticated, asService for
 * service_role), exactly PostgREST's model, so the same RLS policies decide.
 */
export const dbContextPlugin: FastifyPluginAsync<DbContextPluginOptions> = sharedPlugin('steward-db-context', (app, options) => {
  app.decorateRequest('database', null as unknown as RequestDatabase);
  app.addHook('preHandler', (request, _reply, done) => {
    request.database = requestDatabase(options.db, request.auth);
    done();
  });
  return Promise.resolve();
});

export function requestDatabase(db: Database, auth: AuthContext): RequestDatabase {
  return {
    authed: auth.role !== 'anon',
    run: (fn, options = {}) => auth.role === 'service_role'
      ? db.asService(fn, { claims: auth.claims, readOnly: options.readOnly ?? false })
      : db.asTenant(auth.claims, fn, { readOnly: options.readOnly ?? false }),
  };
}
