import { after, before, describe } from 'node:test';
import { SignJWT } from 'jose';
import type { Database } from '../../src/db/database.ts';
import type { TenantClaims } from '../../src/db/tenant-context.ts';
import { signingKey, TOKEN_ISSUER } from '../../src/http/auth/tokens.ts';
import { serviceAccess, tenantAccess, type Access } from '../../src/services/access.ts';
import { restServiceAccess, restServices, restTenantAccess } from '../../src/services/rest/index.ts';
import { sqlServices, type ServiceSet } from '../../src/services/service-set.ts';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from './api.ts';
import { ENGINES, forEachEngine, type TestDatabase } from './engines.ts';

/** pglite, postgres (the SQL services on an engine) or rest (the REST services via Steward's server). */
export type BackendName = 'pglite' | 'postgres' | 'rest';

/**
 * A service backend under contract test (River's driver test suite): the contract
 * gets the services acting as the service role or as a tenant (`services`), so the same
 * suite runs on every engine and, for suites that opt in, over REST.
 */
export interface BackendContext {
  readonly name: BackendName;
  readonly db: Database;
  /** The test database, for arranging rows as its owner. */
  readonly test: TestDatabase;
  /** SQL access to the backend's database (on `rest` too: for arranging, not under test). */
  service(): Access;
  tenant(claims: TenantClaims): Access;
  /** The services under test, with the service role's rights or a tenant's claims. */
  services(as: 'service' | TenantClaims): ServiceSet;
}

/**
 * Declares `describe(`${title} on ${backend}`)` for every engine — and, with `rest: true`,
 * once more on `rest`: Steward's API server in front of the last engine (PostgreSQL when
 * TEST_DATABASE_URL is set), the services reached with supabase-js. Each has a database
 * of its own opened before and closed after. `body` receives a getter, valid inside
 * tests, and the backend's name, known at declaration time: a test that needs a
 * capability one backend lacks is declared under a visible `if`, never skipped at run time.
 */
export function forEachBackend(
  title: string,
  body: (ctx: () => BackendContext, name: BackendName) => void,
  options: { rest?: boolean } = {},
): void {
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
        services: (as) => sqlServices(as === 'service' ? serviceAccess(test.db) : tenantAccess(test.db, as)),
      };
    });
    body(() => {
      if (!current) throw new Error('backend used outside a test');
      return current;
    }, engine);
  });
  if (options.rest) restBackend(title, body);
}

function restBackend(title: string, body: (ctx: () => BackendContext, name: BackendName) => void): void {
  const engine = ENGINES.at(-1)!;
  describe(`${title} on rest`, () => {
    let test: TestDatabase | undefined;
    let api: TestApi | undefined;
    let current: BackendContext | undefined;
    before(async () => {
      test = await engine.open();
      api = await startTestApi(test);
      const { server, keys } = api;
      const opened = test;
      current = {
        name: 'rest',
        db: opened.db,
        test: opened,
        service: () => serviceAccess(opened.db),
        tenant: (claims) => tenantAccess(opened.db, claims),
        services: (as) =>
          restServices(as === 'service' ? restServiceAccess(server.url, keys.serviceRoleKey) : restTenantAccess(server.url, keys.anonKey, tenantToken(as))),
      };
    });
    after(async () => {
      await api?.server.close();
      await test?.close();
    });
    body(() => {
      if (!current) throw new Error('backend used outside a test');
      return current;
    }, 'rest');
  });
}

/** A tenant's token carrying exactly these claims (as request.jwt.claims will), minted once. */
function tenantToken(claims: TenantClaims): () => Promise<string> {
  let token: Promise<string> | undefined;
  return () =>
    (token ??= new SignJWT({ role: 'authenticated', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(signingKey(TEST_JWT_SECRET)));
}
