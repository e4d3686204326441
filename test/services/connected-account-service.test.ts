import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const UNKNOWN = 'cccccccc-0000-4000-8000-000000000003';
const LINKED = new Date('2025-10-01T12:00:00.000Z');

forEachBackend('ConnectedAccountService', (ctx) => {
  const asService = () => ctx().services('service').accounts;
  const asTenant = (tenant_id: string) => ctx().services({ tenant_id }).accounts;
  const count = async () =>
    (await ctx().test.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from connected_accounts'))).rows[0]!.n;

  before(async () => {
    const tenants = new SqlTenantService(ctx().service());
    await tenants.create({ id: A, name: 'Acme' });
    await tenants.create({ id: B, name: 'Beta' });
  });

  it('creates accounts with defaults, as the service role and as the tenant itself', async () => {
    const a = await asService().create({ tenant_id: A, provider: 'SLACK' });
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.equal(a.tenant_id, A);
    assert.equal(a.provider, 'SLACK');
    assert.equal(a.status, 'pending');
    assert.deepEqual(a.scopes, []);
    assert.equal(a.linked_at, null);
    assert.deepEqual(a.metadata, {});
    assert.ok(a.created_at instanceof Date);
    const own = await asTenant(A).create({
      tenant_id: A, provider: 'GMAIL', status: 'active', scopes: ['GMAIL.SMTP'], linked_at: '2025-10-01T14:00:00+02:00', metadata: { composio_id: 'ca_123' },
    });
    assert.equal(own.status, 'active');
    assert.deepEqual(own.scopes, ['GMAIL.SMTP']);
    assert.equal(own.linked_at?.getTime(), LINKED.getTime());
    assert.deepEqual(own.metadata, { composio_id: 'ca_123' });
    assert.deepEqual(await asService().get(own.id), own);
  });

  it('lists by tenant, provider and status, oldest first', async () => {
    await asService().create({ tenant_id: B, provider: 'SLACK', status: 'active' });
    assert.deepEqual((await asService().list()).map((a) => `${a.tenant_id}/${a.provider}`), [`${A}/SLACK`, `${A}/GMAIL`, `${B}/SLACK`]);
    assert.deepEqual((await asService().list({ tenant_id: A })).map((a) => a.provider), ['SLACK', 'GMAIL']);
    assert.deepEqual((await asService().list({ provider: 'SLACK' })).map((a) => a.tenant_id), [A, B]);
    assert.deepEqual((await asService().list({ status: 'active' })).map((a) => a.provider), ['GMAIL', 'SLACK']);
    assert.deepEqual((await asService().list({ tenant_id: A, provider: 'SLACK', status: 'active' })), []);
    assert.equal((await asService().list({ limit: 2 })).length, 2);
  });

  it('updates status, scopes, metadata and linked_at; absent keys are kept, null clears linked_at', async () => {
    const [slack] = await asService().list({ tenant_id: A, provider: 'SLACK' });
    const linked = await asTenant(A).update(slack!.id, { status: 'active', linked_at: LINKED, scopes: ['SLACK.CHAT:WRITE'] });
    assert.equal(linked.status, 'active');
    assert.equal(linked.linked_at?.getTime(), LINKED.getTime());
    assert.deepEqual(linked.scopes, ['SLACK.CHAT:WRITE']);
    assert.deepEqual(linked.metadata, {});
    assert.equal(linked.provider, 'SLACK');
    assert.ok(linked.updated_at.getTime() >= slack!.updated_at.getTime());
    const revoked = await asService().update(slack!.id, { status: 'revoked', linked_at: null, metadata: { reason: 'user' } });
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.linked_at, null);
    assert.deepEqual(revoked.metadata, { reason: 'user' });
    assert.deepEqual(revoked.scopes, ['SLACK.CHAT:WRITE']);
    assert.deepEqual(await asService().get(slack!.id), revoked);
    for (const status of ['pending', 'failed', 'expired', 'inactive'] as const) {
      assert.equal((await asService().update(slack!.id, { status })).status, status);
    }
  });

  it('isolates tenants: B never reads or changes A’s accounts', async () => {
    const [a] = await asService().list({ tenant_id: A });
    await rejectsWith(asTenant(B).get(a!.id), 'not_found', 'id');
    assert.deepEqual((await asTenant(B).list()).map((x) => x.tenant_id), [B]);
    assert.deepEqual(await asTenant(B).list({ tenant_id: A }), []);
    assert.deepEqual((await asTenant(A).list()).map((x) => x.tenant_id), [A, A]);
    await rejectsWith(asTenant(B).update(a!.id, { status: 'revoked', metadata: { owned: true } }), 'not_found', 'id');
    assert.deepEqual(await asService().get(a!.id), a);
    const before = await count();
    await rejectsWith(asTenant(B).create({ tenant_id: A, provider: 'GMAIL' }), 'forbidden');
    assert.equal(await count(), before);
  });

  it('rejects bad input naming the field, and changes nothing', async () => {
    const [a] = await asService().list({ tenant_id: A });
    const before = await count();
    const svc = asService();
    await rejectsWith(svc.create({ tenant_id: 'nope', provider: 'SLACK' }), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.create({ tenant_id: A, provider: ' ' }), 'invalid_input', 'provider');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', status: 'connected' as never }), 'invalid_input', 'status');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', metadata: { blob: 'x'.repeat(64 * 1024) } }), 'invalid_input', 'metadata');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', metadata: [] as never }), 'invalid_input', 'metadata');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', scopes: 'a b' as never }), 'invalid_input', 'scopes');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', linked_at: '2025-10-01 12:00' }), 'invalid_input', 'linked_at');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', linked_at: new Date(Number.NaN) }), 'invalid_input', 'linked_at');
    await rejectsWith(svc.create({ tenant_id: A, provider: 'SLACK', id: A } as never), 'invalid_input');
    await rejectsWith(svc.get('nope'), 'invalid_input', 'id');
    await rejectsWith(svc.update('nope', { status: 'active' }), 'invalid_input', 'id');
    await rejectsWith(svc.update(a!.id, { status: 'ACTIVE' as never }), 'invalid_input', 'status');
    await rejectsWith(svc.update(a!.id, { metadata: { blob: 'x'.repeat(64 * 1024) } }), 'invalid_input', 'metadata');
    await rejectsWith(svc.update(a!.id, { scopes: null } as never), 'invalid_input', 'scopes');
    await rejectsWith(svc.update(a!.id, { provider: 'GMAIL' } as never), 'invalid_input');
    await rejectsWith(svc.list({ status: 'gone' as never }), 'invalid_input', 'status');
    await rejectsWith(svc.list({ tenant_id: 'nope' }), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.list({ limit: 0 }), 'invalid_input', 'limit');
    assert.equal(await count(), before);
    assert.deepEqual(await asService().get(a!.id), a);
  });

  // jsonb cannot hold \u0000; SQLSTATE 22P05 is not yet mapped in src/db/database-error.ts.
  it('a NUL character in metadata is invalid_input, and changes nothing', async () => {
    const before = await count();
    await rejectsWith(asService().create({ tenant_id: A, provider: 'SLACK', metadata: { note: 'a\u0000b' } }), 'invalid_input');
    assert.equal(await count(), before);
  });

  it('an unknown tenant is not_found on tenant_id', async () => {
    const before = await count();
    await rejectsWith(asService().create({ tenant_id: UNKNOWN, provider: 'SLACK' }), 'not_found', 'tenant_id');
    assert.equal(await count(), before);
  });

  it('get and update of an unknown account are not_found', async () => {
    await rejectsWith(asService().get(UNKNOWN), 'not_found', 'id');
    await rejectsWith(asService().update(UNKNOWN, { status: 'active' }), 'not_found', 'id');
  });
}, { rest: true });
