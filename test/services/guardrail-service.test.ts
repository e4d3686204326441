import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { TenantClaims } from '../../src/db/tenant-context.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const UNKNOWN = 'cccccccc-0000-4000-8000-000000000003';
const WRITE = ['guardrails:write'];

forEachBackend('GuardrailService', (ctx) => {
  const asService = () => ctx().services('service').guardrails;
  const asTenant = (claims: TenantClaims) => ctx().services(claims).guardrails;
  const count = async () =>
    (await ctx().test.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from guardrails'))).rows[0]!.n;

  before(async () => {
    const tenants = new SqlTenantService(ctx().service());
    await tenants.create({ id: A, name: 'Acme' });
    await tenants.create({ id: B, name: 'Beta' });
  });

  it('get is not_found before the tenant has guardrails', async () => {
    await rejectsWith(asService().get(A), 'not_found', 'tenant_id');
    await rejectsWith(asTenant({ tenant_id: A }).get(A), 'not_found', 'tenant_id');
  });

  it('upsert creates the row with defaults, then replaces it whole: one row per tenant', async () => {
    const g = await asService().upsert({ tenant_id: A, quiet_hours: { start: 22, end: 6 }, trust_threshold: 0.8, scopes: { allowed: ['GMAIL', 'SLACK'] } });
    assert.equal(g.tenant_id, A);
    assert.deepEqual(g.quiet_hours, { start: 22, end: 6 });
    assert.equal(g.trust_threshold, 0.8);
    assert.deepEqual(g.scopes, { allowed: ['GMAIL', 'SLACK'] });
    assert.equal(g.require_evidence, true);
    assert.deepEqual(g.evidence_insert_scopes, []);
    assert.ok(g.created_at instanceof Date);
    const replaced = await asService().upsert({ tenant_id: A, require_evidence: false, evidence_insert_scopes: ['finance:write'] });
    assert.equal(replaced.id, g.id);
    assert.equal(replaced.quiet_hours, null);
    assert.equal(replaced.trust_threshold, null);
    assert.deepEqual(replaced.scopes, {});
    assert.equal(replaced.require_evidence, false);
    assert.deepEqual(replaced.evidence_insert_scopes, ['finance:write']);
    assert.equal(await count(), 1);
    await asService().upsert({ tenant_id: A, quiet_hours: { start: 22, end: 6 }, trust_threshold: 0.8, scopes: { allowed: ['GMAIL'] } });
    await asService().upsert({ tenant_id: B, trust_threshold: 0.5 });
    assert.equal(await count(), 2);
  });

  it('a tenant reads its own guardrails', async () => {
    const own = await asTenant({ tenant_id: A }).get(A);
    assert.deepEqual(own, await asService().get(A));
    assert.equal(own.trust_threshold, 0.8);
  });

  it('update changes the given fields, keeps absent ones and clears with null', async () => {
    const before = await asService().get(A);
    const g = await asService().update(A, { trust_threshold: 0.9, quiet_hours: null });
    assert.equal(g.trust_threshold, 0.9);
    assert.equal(g.quiet_hours, null);
    assert.deepEqual(g.scopes, { allowed: ['GMAIL'] });
    assert.equal(g.require_evidence, true);
    assert.ok(g.updated_at.getTime() >= before.updated_at.getTime());
    const h = await asService().update(A, { quiet_hours: { start: 0, end: 23 }, evidence_insert_scopes: ['a', 'b'] });
    assert.deepEqual(h.quiet_hours, { start: 0, end: 23 });
    assert.deepEqual(h.evidence_insert_scopes, ['a', 'b']);
    assert.equal(h.trust_threshold, 0.9);
  });

  it('a tenant token with guardrails:write updates its own row (scopes array or scope string)', async () => {
    const g = await asTenant({ tenant_id: A, scopes: WRITE }).update(A, { scopes: { allowed: ['SLACK'] } });
    assert.deepEqual(g.scopes, { allowed: ['SLACK'] });
    const h = await asTenant({ tenant_id: A, scope: 'profile GUARDRAILS:WRITE' }).update(A, { require_evidence: false });
    assert.equal(h.require_evidence, false);
    assert.deepEqual((await asService().get(A)).scopes, { allowed: ['SLACK'] });
  });

  it('a tenant token without the scope is forbidden and changes nothing', async () => {
    const before = await asService().get(A);
    const error = await rejectsWith(asTenant({ tenant_id: A }).update(A, { trust_threshold: 0 }), 'forbidden');
    assert.equal(error.details?.required_scope, 'guardrails:write');
    await rejectsWith(asTenant({ tenant_id: A, scopes: ['guardrails:read'] }).update(A, { trust_threshold: 0 }), 'forbidden');
    assert.deepEqual(await asService().get(A), before);
  });

  it('a tenant may not upsert, not even its own row', async () => {
    const before = await asService().get(A);
    await rejectsWith(asTenant({ tenant_id: A, scopes: WRITE }).upsert({ tenant_id: A, trust_threshold: 0 }), 'forbidden');
    assert.deepEqual(await asService().get(A), before);
  });

  it('isolates tenants: B never reads or changes A’s guardrails, scope or not', async () => {
    const before = await asService().get(A);
    await rejectsWith(asTenant({ tenant_id: B }).get(A), 'not_found', 'tenant_id');
    await rejectsWith(asTenant({ tenant_id: B, scopes: WRITE }).get(A), 'not_found', 'tenant_id');
    await rejectsWith(asTenant({ tenant_id: B, scopes: WRITE }).update(A, { trust_threshold: 0 }), 'not_found', 'tenant_id');
    await rejectsWith(asTenant({ tenant_id: B }).update(A, { trust_threshold: 0 }), 'not_found', 'tenant_id');
    await rejectsWith(asTenant({ tenant_id: B, scopes: WRITE }).upsert({ tenant_id: A, trust_threshold: 0 }), 'forbidden');
    assert.deepEqual(await asService().get(A), before);
    assert.equal((await asTenant({ tenant_id: B }).get(B)).trust_threshold, 0.5);
  });

  it('rejects bad input naming the field, and changes nothing', async () => {
    const before = await asService().get(A);
    const rows = await count();
    const svc = asService();
    await rejectsWith(svc.get('nope'), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.update('nope', {}), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.upsert({ tenant_id: 'nope' }), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.upsert({ tenant_id: A, extra: true } as never), 'invalid_input');
    await rejectsWith(svc.update(A, { tenant_id: B } as never), 'invalid_input');
    await rejectsWith(svc.update(A, { quiet_hours: { start: 24, end: 6 } }), 'invalid_input', 'quiet_hours.start');
    await rejectsWith(svc.update(A, { quiet_hours: { start: 1.5, end: 6 } }), 'invalid_input', 'quiet_hours.start');
    await rejectsWith(svc.update(A, { quiet_hours: { start: 6, end: 6 } }), 'invalid_input', 'quiet_hours.end');
    await rejectsWith(svc.update(A, { quiet_hours: { start: 1, end: 6, tz: 'UTC' } as never }), 'invalid_input', 'quiet_hours');
    await rejectsWith(svc.update(A, { trust_threshold: 1.01 }), 'invalid_input', 'trust_threshold');
    await rejectsWith(svc.update(A, { trust_threshold: -0.1 }), 'invalid_input', 'trust_threshold');
    await rejectsWith(svc.update(A, { scopes: ['GMAIL'] as never }), 'invalid_input', 'scopes');
    await rejectsWith(svc.update(A, { scopes: { allowed: 'GMAIL' } }), 'invalid_input', 'scopes.allowed');
    await rejectsWith(svc.update(A, { scopes: { note: 'x'.repeat(64 * 1024) } }), 'invalid_input', 'scopes');
    await rejectsWith(svc.update(A, { require_evidence: 'yes' as never }), 'invalid_input', 'require_evidence');
    await rejectsWith(svc.update(A, { evidence_insert_scopes: [' '] }), 'invalid_input', 'evidence_insert_scopes.0');
    await rejectsWith(svc.upsert({ tenant_id: B, trust_threshold: 2 }), 'invalid_input', 'trust_threshold');
    assert.deepEqual(await asService().get(A), before);
    assert.equal((await asService().get(B)).trust_threshold, 0.5);
    assert.equal(await count(), rows);
  });

  it('an unknown tenant is not_found on tenant_id', async () => {
    const rows = await count();
    await rejectsWith(asService().upsert({ tenant_id: UNKNOWN }), 'not_found', 'tenant_id');
    await rejectsWith(asService().update(UNKNOWN, { trust_threshold: 0.1 }), 'not_found', 'tenant_id');
    await rejectsWith(asService().get(UNKNOWN), 'not_found', 'tenant_id');
    assert.equal(await count(), rows);
  });
}, { rest: true });
