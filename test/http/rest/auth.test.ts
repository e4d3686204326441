import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { mintToken } from '../../../src/http/auth/tokens.ts';
import type { TestDatabase } from '../../support/engines.ts';
import { forEachApi, TEST_JWT_SECRET } from '../../support/api.ts';
import { A, B, arrangeFixture } from './fixture.ts';

// Authentication: which tokens are accepted, which role and claims a request then runs
// with, and that every refused token is a 401 with PostgREST's body before anything is
// executed.

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

async function arrange(test: TestDatabase): Promise<void> {
  await arrangeFixture(test);
  await test.owner.transaction(async (tx) => {
    await tx.exec(`
      create function public.rest_test_whoami() returns jsonb language sql stable as $$
        select jsonb_build_object('role', current_user, 'claims', auth.jwt()) $$;`);
  });
}

forEachApi('REST authentication', (api) => {
  /** GET /objectives with these headers: status, body and WWW-Authenticate. */
  async function get(headers: Record<string, string>): Promise<{ status: number; body: unknown; wwwAuthenticate: string | null }> {
    const res = await fetch(`${api().rest}/objectives?select=tenant_id`, { headers });
    return { status: res.status, body: await res.json(), wwwAuthenticate: res.headers.get('www-authenticate') };
  }

  async function whoami(headers: Record<string, string>): Promise<{ role: string; claims: Record<string, unknown> }> {
    const res = await fetch(`${api().rest}/rpc/rest_test_whoami`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200, await res.clone().text());
    return await res.json() as { role: string; claims: Record<string, unknown> };
  }

  /** The request is refused with this 401 body, and no transaction was opened. */
  async function refused(headers: Record<string, string>, code: string, message: string | RegExp): Promise<void> {
    const before = api().db.transactions;
    const { status, body, wwwAuthenticate } = await get(headers);
    assert.equal(status, 401, JSON.stringify(body));
    const error = body as { code: string; message: string; details: unknown; hint: unknown };
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.ok('details' in error && 'hint' in error, 'PostgREST\'s four keys');
    assert.match(wwwAuthenticate ?? '', /^Bearer/);
    assert.equal(api().db.transactions, before, 'nothing was executed');
  }

  describe('refused tokens', () => {
    it('a forged signature (another secret): PGRST301', async () => {
      const forged = await mintToken('another-secret-that-is-long-enough-to-sign', { role: 'authenticated', tenantId: A, ttlSeconds: 60 });
      await refused({ Authorization: `Bearer ${forged}` }, 'PGRST301', 'JWT cryptographic operation failed');
    });

    it('a genuine tenant token whose payload was edited to claim service_role: PGRST301', async () => {
      const [header, , signature] = (await api().token({ role: 'authenticated', tenantId: A })).split('.');
      const escalated = `${header}.${b64({ role: 'service_role', iss: 'steward', iat: now(), exp: now() + 60 })}.${signature}`;
      await refused({ Authorization: `Bearer ${escalated}` }, 'PGRST301', 'JWT cryptographic operation failed');
    });

    it('expired (beyond the 30 s skew PostgREST allows): PGRST303 with WWW-Authenticate invalid_token', async () => {
      const expired = await mintToken(TEST_JWT_SECRET, { role: 'authenticated', tenantId: A, ttlSeconds: 60, issuedAt: now() - 120 });
      await refused({ Authorization: `Bearer ${expired}` }, 'PGRST303', 'JWT expired');
      const res = await fetch(`${api().rest}/objectives`, { headers: { Authorization: `Bearer ${expired}` } });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="JWT expired"');
      await res.body?.cancel();
      const withinSkew = await mintToken(TEST_JWT_SECRET, { role: 'authenticated', tenantId: A, ttlSeconds: 60, issuedAt: now() - 75 });
      assert.equal((await get({ Authorization: `Bearer ${withinSkew}` })).status, 200);
    });

    it('alg none, and algorithms other than HS256 even with the right secret: PGRST301', async () => {
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'service_role', exp: now() + 60 })}.`;
      await refused({ Authorization: `Bearer ${none}` }, 'PGRST301', 'Wrong or unsupported encoding algorithm');
      const hs512 = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1m').sign(new TextEncoder().encode(TEST_JWT_SECRET));
      await refused({ Authorization: `Bearer ${hs512}` }, 'PGRST301', 'Wrong or unsupported encoding algorithm');
    });

    it('an authenticated token without a tenant (missing, or not a uuid): PGRST303', async () => {
      await refused({ Authorization: `Bearer ${await api().token({ role: 'authenticated' })}` }, 'PGRST303', "The JWT 'tenant_id' claim must be a tenant's uuid");
      await refused({ Authorization: `Bearer ${await api().token({ role: 'authenticated', tenantId: 'not-a-uuid' })}` }, 'PGRST303', /tenant_id/);
    });

    it('a tenant token (validly signed) claiming service_role, and roles other than the three: 401 42501', async () => {
      await refused({ Authorization: `Bearer ${await api().token({ role: 'service_role', tenantId: A })}` }, '42501', 'permission denied to set role "service_role"');
      for (const role of ['postgres', 'supabase_admin', 'steward']) {
        const token = await new SignJWT({ role, tenant_id: A }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(new TextEncoder().encode(TEST_JWT_SECRET));
        await refused({ Authorization: `Bearer ${token}` }, '42501', `permission denied to set role "${role}"`);
      }
    });

    it('malformed, empty, not yet valid, issued in the future, malformed claims', async () => {
      await refused({ Authorization: 'Bearer abc' }, 'PGRST301', 'Expected 3 parts in JWT; got 1');
      await refused({ Authorization: 'Bearer a.b.c.d' }, 'PGRST301', 'Expected 3 parts in JWT; got 4');
      await refused({ Authorization: 'Bearer ' }, 'PGRST301', 'Empty JWT is sent in Authorization header');
      await refused({ Authorization: 'Bearer e30.e30.x' }, 'PGRST301', /./);
      const key = new TextEncoder().encode(TEST_JWT_SECRET);
      const notYet = await new SignJWT({ role: 'authenticated', tenant_id: A }).setProtectedHeader({ alg: 'HS256' }).setNotBefore(now() + 600).setExpirationTime(now() + 900).sign(key);
      await refused({ Authorization: `Bearer ${notYet}` }, 'PGRST303', 'JWT not yet valid');
      const future = await new SignJWT({ role: 'authenticated', tenant_id: A }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now() + 600).setExpirationTime(now() + 900).sign(key);
      await refused({ Authorization: `Bearer ${future}` }, 'PGRST303', 'JWT issued at future');
      const badScopes = await new SignJWT({ role: 'authenticated', tenant_id: A, scopes: 'a b' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(key);
      await refused({ Authorization: `Bearer ${badScopes}` }, 'PGRST303', "The JWT 'scopes' claim is malformed");
      const badExp = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ role: 'anon', exp: 'soon' })}`;
      const { createHmac } = await import('node:crypto');
      const signed = `${badExp}.${createHmac('sha256', TEST_JWT_SECRET).update(badExp).digest('base64url')}`;
      await refused({ Authorization: `Bearer ${signed}` }, 'PGRST303', "The JWT 'exp' claim must be a number");
    });

    it('an opaque sb_ key that is not this project\'s: 401', async () => {
      await refused({ apikey: 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz' }, 'PGRST301', 'Invalid API key');
    });
  });

  describe('accepted credentials', () => {
    it('the JWT role picks the database role; the claims reach request.jwt.claims as PostgREST sets them', async () => {
      const token = await api().token({ role: 'authenticated', tenantId: A, sub: 'user-1', scopes: ['x:y'] });
      const tenant = await whoami({ Authorization: `Bearer ${token}` });
      assert.equal(tenant.role, 'authenticated');
      assert.deepEqual(tenant.claims, JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as unknown);
      const service = await whoami({ apikey: api().keys.serviceRoleKey });
      assert.deepEqual(service, { role: 'service_role', claims: { iss: 'steward', role: 'service_role', exp: 2_524_608_000 } });
      assert.deepEqual(await whoami({}), { role: 'anon', claims: { role: 'anon' } });
      assert.deepEqual((await whoami({ apikey: api().keys.anonKey })).role, 'anon');
    });

    it('Bearer wins over apikey; an sb_ Bearer defers to the apikey, as Supabase\'s gateway does', async () => {
      const tenantA = await api().token({ role: 'authenticated', tenantId: A });
      const tenantB = await api().token({ role: 'authenticated', tenantId: B });
      const visible = async (headers: Record<string, string>): Promise<string[]> =>
        [...new Set(((await get(headers)).body as { tenant_id: string }[]).map((r) => r.tenant_id))].sort();
      assert.deepEqual(await visible({ apikey: api().keys.anonKey, Authorization: `Bearer ${tenantA}` }), [A]);
      assert.deepEqual(await visible({ apikey: tenantB }), [B]);
      assert.deepEqual(await visible({ apikey: tenantB, Authorization: `Bearer ${api().keys.publishableKey}` }), [B]);
      assert.deepEqual(await visible({ apikey: api().keys.secretKey, Authorization: `Bearer ${api().keys.secretKey}` }), [A, B]);
      assert.deepEqual(await visible({ Authorization: `bearer ${tenantA}` }), [A], 'the scheme is case-insensitive');
    });

    it('no credentials, or the anon key: anon, which has no grants on Steward\'s tables (401 with WWW-Authenticate: Bearer)', async () => {
      for (const headers of [{}, { apikey: api().keys.anonKey }, { apikey: api().keys.publishableKey }] as Record<string, string>[]) {
        const res = await get(headers);
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { code: '42501', message: 'permission denied for table objectives', details: null, hint: null });
        assert.equal(res.wwwAuthenticate, 'Bearer');
      }
    });

    it('supabase-js with a tenant token as its key', async () => {
      const res = await api().client(await api().token({ role: 'authenticated', tenantId: B })).from('objectives').select('title');
      assert.deepEqual([res.error, res.data], [null, [{ title: 'Secret objective of B' }]]);
    });
  });
}, { arrange });
