import { before } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import type { TenantClaims } from '../../src/db/tenant-context.ts';
import { serviceAccess, tenantAccess, type Access } from '../../src/services/access.ts';
import { forEachEngine, type TestDatabase } from './engines.ts';

/**
 * A service backend under contract test (River's driver test suite): the contract
 * gets `access` factories and builds the services it tests from them, so the same
 * suite runs on every engine (and, later, on the Supabase REST backend).
 */
export interface BackendContext {
  readonly name: string;
  readonly db: Database;
  /** The test database, for arranging rows as its owner. */
  readonly test: TestDatabase;
  service(): Access;
  tenant(claims: TenantClaims): Access;
}

/**
 * Declares `describe(`${title} on ${engine}`)` for every engine, with a database of its
 * own opened before and closed after. `body` receives a getter, valid inside tests, and
 * the backend's name, known at declaration time: a test that needs a capability one
 * backend lacks is declared under a visible `if`, never skipped at run time.
 */
export function forEachBackend(title: string, body: (ctx: () => BackendContext, name: string) => void): void {
  forEachEngine(title, (db, engine) => {
    let current: BackendContext | undefined;
    before(() => {
      const test = db();
      current = {
        name: engine,
        db: test.db,
        test,
        service: () => serviceAccess(test.db),
        tenant: (claims) => tenantAccess(test.db, claims),
      };
    });
    body(() => {
      if (!current) throw new Error('backend used outside a test');
      return current;
    }, engine);
  });
}
