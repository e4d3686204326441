import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setRequestContext, type TenantClaims } from '../../src/db/tenant-context.ts';
import { MIGRATIONS_DIR } from '../../src/db/sql-files.ts';
import { rejectsWith } from '../support/assert-error.ts';
import { forEachEngine } from '../support/engines.ts';
import { RolledBack, rolledBack } from './rls-outcome.ts';

// 002_auth: Supabase's auth.* functions and roles (created only where absent) and
// Steward's tenancy helpers, which every policy in 004_rls is built on.

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const SUB = '5ab5ab5a-0000-4000-8000-000000000005';

forEachEngine('auth helpers', (ctx) => {
  before(async () => {
    await ctx().owner.transaction((tx) => tx.query(`insert into public.tenants (id, name) values ($1, 'Tenant A')`, [A]));
  });

  /** One value computed inside asTenant(claims). */
  async function asTenantValue<T>(claims: TenantClaims, sql: string): Promise<T> {
    const res = await ctx().db.asTenant(claims, (tx) => tx.query<{ v: T }>(sql));
    assert.equal(res.rows.length, 1);
    return (res.rows[0] as { v: T }).v;
  }

  /** One value computed by the owner with `request.jwt.claims` set verbatim (null = unset). */
  async function withRawClaims<T>(claims: string | null, sql: string, settings: Record<string, string> = {}): Promise<T> {
    const res = await ctx().owner.transaction(async (tx) => {
      if (claims !== null) await tx.query(`select set_config('request.jwt.claims', $1, true)`, [claims]);
      for (const [name, value] of Object.entries(settings)) await tx.query('select set_config($1, $2, true)', [name, value]);
      return tx.query<{ v: T }>(sql);
    });
    return (res.rows[0] as { v: T }).v;
  }

  describe('current_tenant_id_uuid()', () => {
    const cases: [string, TenantClaims, string | null][] = [
      ['missing', {}, null],
      ['empty', { tenant_id: '' }, null],
      ["malformed 'not-a-uuid'", { tenant_id: 'not-a-uuid' }, null],
      ["malformed '123'", { tenant_id: '123' }, null],
      ['a uuid with surrounding spaces', { tenant_id: ` ${A} ` }, null],
      ['a uuid with a trailing newline', { tenant_id: `${A}\n` }, null],
      ['valid', { tenant_id: A }, A],
      ['valid, upper case (normalised)', { tenant_id: A.toUpperCase() }, A],
    ];
    for (const [name, claims, expected] of cases) {
      it(`${name} tenant_id → ${expected ?? 'NULL'}`, async () => {
        assert.equal(await asTenantValue(claims, 'select public.current_tenant_id_uuid()::text as v'), expected);
        assert.equal(await asTenantValue(claims, 'select public.current_tenant_id()::text as v'), expected, 'the alias agrees');
      });
    }

    it('is NULL for a non-string tenant_id claim, and without any claims at all', async () => {
      assert.equal(await withRawClaims('{"tenant_id": 123}', 'select public.current_tenant_id_uuid()::text as v'), null);
      assert.equal(await withRawClaims('{"tenant_id": {"id": 1}}', 'select public.current_tenant_id_uuid()::text as v'), null);
      assert.equal(await withRawClaims('{"tenant_id": null}', 'select public.current_tenant_id_uuid()::text as v'), null);
      assert.equal(await withRawClaims('', 'select public.current_tenant_id_uuid()::text as v'), null);
      assert.equal(await withRawClaims(null, 'select public.current_tenant_id_uuid()::text as v'), null);
    });

    it('a malformed tenant_id sees no tenant rows (and raises nothing)', async () => {
      for (const tenant_id of ['', 'not-a-uuid', '123']) {
        assert.equal(await asTenantValue({ tenant_id }, 'select count(*)::int as v from public.tenants'), 0, tenant_id);
      }
      assert.equal(await asTenantValue({ tenant_id: A }, 'select count(*)::int as v from public.tenants'), 1);
    });
  });

  describe('auth.jwt(), auth.uid(), auth.role()', () => {
    it('auth.jwt() is the claims of the request, with the role forced in', async () => {
      const claims = { tenant_id: A, sub: SUB, scopes: ['finance:write'], email: 'a@example.com' };
      assert.deepEqual(await asTenantValue(claims, 'select auth.jwt() as v'), { ...claims, role: 'authenticated' });
      assert.deepEqual(await asTenantValue({ role: 'anon' }, 'select auth.jwt() as v'), { role: 'anon' });
      const service = await ctx().db.asService((tx) => tx.query<{ v: unknown }>('select auth.jwt() as v'));
      assert.deepEqual(service.rows[0]?.v, { role: 'service_role' });
    });

    it('auth.jwt() prefers the legacy request.jwt.claim setting, and is NULL without claims', async () => {
      assert.deepEqual(await withRawClaims('{"sub": "x"}', 'select auth.jwt() as v', { 'request.jwt.claim': '{"legacy": true}' }), { legacy: true });
      assert.equal(await withRawClaims(null, 'select auth.jwt() as v'), null);
      assert.equal(await withRawClaims('', 'select auth.jwt() as v'), null);
    });

    it('auth.uid() is the sub claim as a uuid; NULL without one', async () => {
      assert.equal(await asTenantValue({ tenant_id: A, sub: SUB }, 'select auth.uid()::text as v'), SUB);
      assert.equal(await asTenantValue({ tenant_id: A }, 'select auth.uid()::text as v'), null);
      assert.equal(await asTenantValue({ role: 'anon' }, 'select auth.uid()::text as v'), null);
    });

    it('auth.uid() prefers request.jwt.claim.sub (legacy PostgREST setting)', async () => {
      const legacy = '1e9ac700-0000-4000-8000-000000000001';
      assert.equal(await withRawClaims(JSON.stringify({ sub: SUB }), 'select auth.uid()::text as v', { 'request.jwt.claim.sub': legacy }), legacy);
      assert.equal(await withRawClaims(JSON.stringify({ sub: SUB }), 'select auth.uid()::text as v', { 'request.jwt.claim.sub': '' }), SUB);
    });

    it('auth.uid() raises on a sub that is not a uuid (as on Supabase)', async () => {
      await rejectsWith(ctx().db.asTenant({ sub: 'user-42' }, (tx) => tx.query('select auth.uid()')), 'invalid_input');
    });

    it('auth.role() is the request role, which is also the database role', async () => {
      assert.deepEqual(await asTenantValue({ tenant_id: A }, 'select array[auth.role(), current_user::text] as v'), ['authenticated', 'authenticated']);
      assert.deepEqual(await asTenantValue({ role: 'anon' }, 'select array[auth.role(), current_user::text] as v'), ['anon', 'anon']);
      const service = await ctx().db.asService((tx) => tx.query<{ v: string[] }>('select array[auth.role(), current_user::text] as v'));
      assert.deepEqual(service.rows[0]?.v, ['service_role', 'service_role']);
      assert.equal(await withRawClaims(null, 'select auth.role() as v'), null);
    });

    it('the service context (sent with BEGIN) is exactly what setRequestContext sets, and ends with the transaction', async () => {
      const read = `select current_user::text as role, current_setting('request.jwt.claims') as claims, current_setting('search_path') as path`;
      type Context = { role: string; claims: string; path: string };
      const viaPrelude = (await ctx().db.asService((tx) => tx.query<Context>(read))).rows[0];
      const viaStatement = (await ctx().owner.transaction(async (tx) => {
        await setRequestContext(tx, 'service_role', {});
        return tx.query<Context>(read);
      })).rows[0];
      assert.deepEqual(viaPrelude, viaStatement);
      assert.equal(viaPrelude?.role, 'service_role');
      const after = (await ctx().owner.transaction((tx) => tx.query<{ role: string }>('select current_user::text as role'))).rows[0];
      assert.notEqual(after?.role, 'service_role');
    });
  });

  describe('jwt_scopes() and jwt_has_scopes()', () => {
    const scopesOf = (claims: TenantClaims) => asTenantValue<string[]>(claims, 'select public.jwt_scopes() as v');

    it('reads a `scopes` array, trimmed and lower-cased', async () => {
      assert.deepEqual(await scopesOf({ tenant_id: A, scopes: [' Finance:Write ', 'GUARDRAILS:write'] }), ['finance:write', 'guardrails:write']);
    });

    it('reads a space-separated `scope` string, trimmed and lower-cased', async () => {
      assert.deepEqual(await scopesOf({ tenant_id: A, scope: '  Finance:Write \t GUARDRAILS:write\n' }), ['finance:write', 'guardrails:write']);
      assert.deepEqual(await scopesOf({ tenant_id: A, scope: '   ' }), []);
    });

    it('prefers the `scopes` array over the `scope` string, even when the array is empty', async () => {
      assert.deepEqual(await scopesOf({ tenant_id: A, scopes: ['a:read'], scope: 'b:write' }), ['a:read']);
      assert.deepEqual(await scopesOf({ tenant_id: A, scopes: [], scope: 'b:write' }), []);
    });

    it('is empty without either claim, and ignores claims of the wrong JSON type', async () => {
      assert.deepEqual(await scopesOf({ tenant_id: A }), []);
      assert.deepEqual(await withRawClaims('{"scopes": "finance:write"}', 'select public.jwt_scopes() as v'), []);
      assert.deepEqual(await withRawClaims('{"scope": ["finance:write"]}', 'select public.jwt_scopes() as v'), []);
      assert.deepEqual(await withRawClaims('{"scopes": "x:y", "scope": "finance:write"}', 'select public.jwt_scopes() as v'), ['finance:write']);
      assert.deepEqual(await withRawClaims(null, 'select public.jwt_scopes() as v'), []);
    });

    it('jwt_has_scopes(required) is true only when every required scope is carried (case and spaces ignored)', async () => {
      const has = (claims: TenantClaims, required: string[]) =>
        ctx().db.asTenant(claims, async (tx) => (await tx.query<{ v: boolean }>('select public.jwt_has_scopes($1::text[]) as v', [required])).rows[0]?.v);
      const token = { tenant_id: A, scopes: ['finance:write', 'guardrails:write'] };
      assert.equal(await has(token, ['finance:write']), true);
      assert.equal(await has(token, [' FINANCE:Write ']), true);
      assert.equal(await has(token, ['finance:write', 'guardrails:write']), true);
      assert.equal(await has(token, ['finance:write', 'evidence:write']), false);
      assert.equal(await has(token, ['finance:read']), false);
      assert.equal(await has({ tenant_id: A, scope: 'Finance:Write' }, ['finance:write']), true);
      assert.equal(await has({ tenant_id: A }, ['finance:write']), false);
      // Nothing required is always satisfied: callers that gate on a configured list
      // must refuse an empty list themselves (evidence_insert_allowed does).
      assert.equal(await has({ tenant_id: A }, []), true);
    });
  });

  describe('roles', () => {
    it('anon, authenticated and service_role exist, cannot log in, and only service_role bypasses RLS', async () => {
      const res = await ctx().owner.transaction((tx) =>
        tx.query<{ rolname: string; rolbypassrls: boolean; rolcanlogin: boolean; rolsuper: boolean }>(
          `select rolname, rolbypassrls, rolcanlogin, rolsuper from pg_roles
            where rolname in ('anon', 'authenticated', 'service_role') order by rolname`,
        ),
      );
      assert.deepEqual(res.rows, [
        { rolname: 'anon', rolbypassrls: false, rolcanlogin: false, rolsuper: false },
        { rolname: 'authenticated', rolbypassrls: false, rolcanlogin: false, rolsuper: false },
        { rolname: 'service_role', rolbypassrls: true, rolcanlogin: false, rolsuper: false },
      ]);
    });

    it('anon and authenticated have no access to the internal schema steward; service_role has usage', async () => {
      const res = await ctx().owner.transaction((tx) =>
        tx.query<{ r: string; usage: boolean }>(
          `select r, has_schema_privilege(r, 'steward', 'usage') as usage
             from unnest(array['anon', 'authenticated', 'service_role']) as r order by r`,
        ),
      );
      assert.deepEqual(res.rows, [
        { r: 'anon', usage: false },
        { r: 'authenticated', usage: false },
        { r: 'service_role', usage: true },
      ]);
    });
  });

  describe('re-running 002_auth.sql', () => {
    const run002 = async (): Promise<string> => {
      const sql = await readFile(join(MIGRATIONS_DIR, '002_auth.sql'), 'utf8');
      return `set local search_path = public, extensions;\n${sql}`;
    };

    it('succeeds on a migrated database and leaves roles and helpers working', async () => {
      const script = await run002();
      const seen = await rolledBack<{ tenant: string; bypass: boolean; roles: number }>(
        ctx().owner.transaction(async (tx) => {
          await tx.exec(script);
          await tx.exec(script); // twice, for good measure
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ tenant_id: A })]);
          const res = await tx.query<{ tenant: string; bypass: boolean; roles: number }>(
            `select public.current_tenant_id_uuid()::text as tenant,
                    (select rolbypassrls from pg_roles where rolname = 'service_role') as bypass,
                    (select count(*)::int from pg_roles where rolname in ('anon', 'authenticated', 'service_role')) as roles`,
          );
          throw new RolledBack(res.rows[0]);
        }),
      );
      assert.deepEqual(seen, { tenant: A, bypass: true, roles: 3 });
    });

    it('leaves existing auth.* functions and roles alone (as on hosted Supabase)', async () => {
      const script = await run002();
      const marker = '0000aaaa-0000-4000-8000-00000000aaaa';
      const seen = await rolledBack<{ uid: string; role: string; jwt: unknown; bypass: boolean }>(
        ctx().owner.transaction(async (tx) => {
          // Stand-ins for Supabase's own definitions, and a service_role without BYPASSRLS.
          await tx.exec(`
            create or replace function auth.uid() returns uuid language sql stable as $$ select '${marker}'::uuid $$;
            create or replace function auth.role() returns text language sql stable as $$ select 'supabase'::text $$;
            create or replace function auth.jwt() returns jsonb language sql stable as $$ select '{"supabase": true}'::jsonb $$;
            alter role service_role nobypassrls;`);
          await tx.exec(script);
          const res = await tx.query<{ uid: string; role: string; jwt: unknown; bypass: boolean }>(
            `select auth.uid()::text as uid, auth.role() as role, auth.jwt() as jwt,
                    (select rolbypassrls from pg_roles where rolname = 'service_role') as bypass`,
          );
          throw new RolledBack(res.rows[0]);
        }),
      );
      assert.deepEqual(seen, { uid: marker, role: 'supabase', jwt: { supabase: true }, bypass: false });
      // and all of it was rolled back
      const role = await ctx().owner.transaction((tx) => tx.query<{ b: boolean }>(`select rolbypassrls as b from pg_roles where rolname = 'service_role'`));
      assert.equal(role.rows[0]?.b, true);
    });
  });
});
