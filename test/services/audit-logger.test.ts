import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { type AppendAuditInput, type AuditEntry } from '../../src/services/audit-logger.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const TAMPERED = 'eeeeeeee-0000-4000-8000-000000000005';
const UNKNOWN = 'cccccccc-0000-4000-8000-000000000003';
const GENESIS = '0'.repeat(64);

const entry = (overrides: Partial<AppendAuditInput> = {}): AppendAuditInput => ({
  tenant_id: A, category: 'guardrail', actor_type: 'agent', actor_id: 'control-plane',
  payload: { guardrail: 'quiet_hours', allowed: true, reason: null }, ...overrides,
});

forEachBackend('AuditLogger', (ctx) => {
  const asService = () => ctx().services('service').audit;
  const asTenant = (tenant_id: string) => ctx().services({ tenant_id }).audit;
  const auditCount = async () =>
    (await ctx().test.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from audit_log'))).rows[0]!.n;

  before(async () => {
    const tenants = new SqlTenantService(ctx().service());
    for (const [id, name] of [[A, 'Acme'], [B, 'Beta'], [TAMPERED, 'Tampered']] as const) await tenants.create({ id, name });
  });

  it('appends rows linked into their tenant\'s chain', async () => {
    const first = await asService().append(entry());
    assert.equal(typeof first.id, 'number');
    assert.equal(first.tenant_id, A);
    assert.equal(first.category, 'guardrail');
    assert.equal(first.actor_type, 'agent');
    assert.equal(first.actor_id, 'control-plane');
    assert.deepEqual(first.payload, { guardrail: 'quiet_hours', allowed: true, reason: null });
    assert.ok(first.created_at instanceof Date);
    assert.equal(first.chain_seq, 1);
    assert.equal(first.prev_hash, GENESIS);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    const other = await asService().append(entry({ tenant_id: B }));
    assert.equal(other.chain_seq, 1);
    const second = await asService().append(entry({ category: ' outbox ', payload: { envelope_id: 'x' } }));
    assert.equal(second.category, 'outbox');
    assert.equal(second.chain_seq, 2);
    assert.equal(second.prev_hash, first.hash);
    assert.notEqual(second.hash, first.hash);
  });

  it('appends rows without a tenant to the tenant-less chain', async () => {
    const [last] = await asService().query({ tenant_id: null, limit: 1 });
    const row = await asService().append(entry({ tenant_id: null, category: 'system' }));
    assert.equal(row.tenant_id, null);
    assert.equal(row.chain_seq, (last?.chain_seq ?? 0) + 1);
    assert.equal(row.prev_hash, last?.hash ?? GENESIS);
  });

  it('rejects invalid entries naming the field, and writes nothing', async () => {
    const before = await auditCount();
    const cases: [AppendAuditInput, string][] = [
      [entry({ tenant_id: 'nope' }), 'tenant_id'],
      [{ category: 'x', actor_type: 'a', actor_id: 'b', payload: {} } as AppendAuditInput, 'tenant_id'],
      [entry({ category: '' }), 'category'],
      [entry({ category: 'c'.repeat(65) }), 'category'],
      [entry({ actor_type: '' }), 'actor_type'],
      [entry({ actor_id: undefined as never }), 'actor_id'],
      [entry({ payload: [] as never }), 'payload'],
      [entry({ payload: { blob: 'x'.repeat(64 * 1024) } }), 'payload'],
    ];
    for (const [input, field] of cases) await rejectsWith(asService().append(input), 'invalid_input', field);
    await rejectsWith(asService().append({ ...entry(), hash: 'forged' } as never), 'invalid_input');
    await rejectsWith(asService().append(entry({ tenant_id: UNKNOWN })), 'not_found', 'tenant_id');
    assert.equal(await auditCount(), before);
  });

  it('a tenant may not append or verify, and writes nothing', async () => {
    const before = await auditCount();
    await rejectsWith(asTenant(A).append(entry()), 'forbidden');
    await rejectsWith(asTenant(A).verify(A), 'forbidden');
    assert.equal(await auditCount(), before);
  });

  it('queries newest first, by tenant, category and time; a tenant sees only its own', async () => {
    // Explicit times (the trigger keeps a given created_at): appends within one
    // millisecond would make the time filters ambiguous at JavaScript's precision.
    const [r1, r2, r3] = (await ctx().test.owner.transaction((tx) => tx.query<{ id: number; created_at: Date }>(
      `insert into audit_log (tenant_id, actor_type, actor_id, category, payload, created_at) values
         ($1, 'agent', 'x', 'approval', '{"n": 1}', '2030-01-01T00:00:00Z'),
         ($1, 'agent', 'x', 'approval', '{"n": 2}', '2030-01-02T00:00:00Z'),
         ($1, 'agent', 'x', 'guardrail', '{"n": 3}', '2030-01-03T00:00:00Z')
       returning id, created_at`, [B]))).rows as [{ id: number; created_at: Date }, { id: number; created_at: Date }, { id: number; created_at: Date }];
    const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
    const bRows = await asService().query({ tenant_id: B });
    assert.deepEqual(ids(bRows).slice(0, 3), [r3.id, r2.id, r1.id]);
    assert.ok(bRows.every((r) => r.tenant_id === B));
    assert.deepEqual(ids(await asService().query({ tenant_id: B, category: 'approval' })), [r2.id, r1.id]);
    assert.deepEqual(ids(await asService().query({ tenant_id: B, since: r2.created_at })), [r3.id, r2.id]);
    assert.deepEqual(ids(await asService().query({ tenant_id: B, since: r1.created_at, until: r3.created_at.toISOString() })), [r2.id, r1.id]);
    assert.deepEqual(ids(await asService().query({ tenant_id: B, limit: 1 })), [r3.id]);
    const all = await asService().query({ limit: 1000 });
    assert.ok(all.some((r) => r.tenant_id === A) && all.some((r) => r.tenant_id === B) && all.some((r) => r.tenant_id === null));
    assert.ok((await asService().query({ tenant_id: null })).every((r) => r.tenant_id === null));
    assert.deepEqual(ids(await asTenant(B).query({ limit: 1000 })), ids(all.filter((r) => r.tenant_id === B)));
    assert.deepEqual(await asTenant(B).query({ tenant_id: A }), []);
    assert.deepEqual(await asTenant(B).query({ tenant_id: null }), []);
    await rejectsWith(asService().query({ since: 'yesterday' }), 'invalid_input', 'since');
    await rejectsWith(asService().query({ tenant_id: 'x' }), 'invalid_input', 'tenant_id');
    await rejectsWith(asService().query({ limit: 0 }), 'invalid_input', 'limit');
  });

  it('verify reports nothing for intact chains and the first broken link of a tampered one', async () => {
    assert.deepEqual(await asService().verify(), []);
    const rows: AuditEntry[] = [];
    for (let i = 1; i <= 3; i++) rows.push(await asService().append(entry({ tenant_id: TAMPERED, payload: { n: i } })));
    assert.deepEqual(await asService().verify(TAMPERED), []);
    await ctx().test.owner.transaction(async (tx) => {
      await tx.query('set local session_replication_role = replica');
      await tx.query(`update audit_log set payload = '{"n": 20}' where id = $1`, [rows[1]!.id]);
    });
    const broken = [{ tenant_id: TAMPERED, id: rows[1]!.id, chain_seq: 2, reason: 'hash_mismatch' }];
    assert.deepEqual(await asService().verify(TAMPERED), broken);
    assert.deepEqual(await asService().verify(), broken);
    assert.deepEqual(await asService().verify(A), []);
    await rejectsWith(asService().verify('nope'), 'invalid_input', 'tenant_id');
  });
}, { rest: true });
