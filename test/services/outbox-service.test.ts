import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { SqlAuditLogger } from '../../src/services/audit-logger.ts';
import { type EnqueueInput } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const UNKNOWN = 'cccccccc-0000-4000-8000-000000000003';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GMAIL = 'GMAIL__drafts.create';

const draft = (overrides: Partial<EnqueueInput> = {}): EnqueueInput => ({
  tenant_id: A, tool_slug: GMAIL, arguments: { to: 'customer@example.com', subject: 'Renewal' }, ...overrides,
});

forEachBackend('OutboxService', (ctx, backend) => {
  const asService = () => ctx().services('service').outbox;
  const asTenant = (tenant_id: string) => ctx().services({ tenant_id }).outbox;
  const owner = <T>(fn: (tx: Transaction) => Promise<T>) => ctx().test.owner.transaction(fn);
  const countOf = async (sql: string, params: unknown[] = []) =>
    (await owner((tx) => tx.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params))).rows[0]!.n;
  const auditRowsOf = (envelopeId: string) =>
    owner(async (tx) => (await tx.query<{ tenant_id: string; actor_type: string; actor_id: string; payload: unknown }>(
      `select tenant_id, actor_type, actor_id, payload from audit_log where category = 'outbox' and payload ->> 'envelope_id' = $1`,
      [envelopeId])).rows);
  /** Rows in outbox, outbox_dlq and audit_log: what a refused call must leave unchanged. */
  const totals = async () => [await countOf('outbox'), await countOf('outbox_dlq'), await countOf('audit_log')];
  const insertDlq = (tenant: string, externalId: string, movedAt = '2025-01-01T00:00:00Z') =>
    owner(async (tx) => (await tx.query<{ id: string }>(
      `insert into outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, attempts, last_error, moved_at)
       values (gen_random_uuid(), $1, $2, '{"dead": true}', $3, 3, 'HTTP 500', $4) returning id`,
      [tenant, GMAIL, externalId, movedAt])).rows[0]!.id);

  before(async () => {
    const tenants = new SqlTenantService(ctx().service());
    await tenants.create({ id: A, name: 'Acme' });
    await tenants.create({ id: B, name: 'Beta' });
  });

  it('enqueues with defaults, generates the external_id once and writes one audit row', async () => {
    const before = Date.now();
    const e = await asService().enqueue(draft());
    assert.equal(e.created, true);
    assert.match(e.id, UUID);
    assert.equal(e.tenant_id, A);
    assert.equal(e.tool_slug, GMAIL);
    assert.deepEqual(e.arguments, { to: 'customer@example.com', subject: 'Renewal' });
    assert.equal(e.status, 'pending');
    assert.equal(e.risk, 'medium');
    assert.equal(e.attempts, 0);
    assert.equal(e.connected_account_id, null);
    assert.deepEqual(e.trust_context, {});
    assert.deepEqual(e.metadata, {});
    assert.match(e.external_id, UUID);
    assert.ok(e.next_run_at instanceof Date && Math.abs(e.next_run_at.getTime() - before) < 60_000);
    assert.deepEqual({ ...(await asService().get(e.id)), created: true }, e);
    assert.deepEqual(await auditRowsOf(e.id), [{
      tenant_id: A, actor_type: 'agent', actor_id: 'control-plane',
      payload: { envelope_id: e.id, tool_slug: GMAIL, transition: 'enqueue', from: null, to: 'pending', external_id: e.external_id },
    }]);
  });

  it('stores every given field; `slug` is accepted for tool_slug', async () => {
    const runAt = new Date('2030-01-02T03:04:05.678Z');
    const e = await asService().enqueue({
      tenant_id: A, slug: 'SLACK__chat.postMessage', arguments: { channel: '#ops', text: 'hi' },
      connected_account_id: 'ca_123', risk: 'high', external_id: 'env-all-fields',
      trust_context: { score: 0.9 }, metadata: { source: 'test' }, next_run_at: runAt.toISOString(),
      actor_type: 'operator', actor_id: 'alice',
    });
    assert.ok(e.status === 'pending');
    assert.equal(e.tool_slug, 'SLACK__chat.postMessage');
    assert.equal(e.connected_account_id, 'ca_123');
    assert.equal(e.risk, 'high');
    assert.equal(e.external_id, 'env-all-fields');
    assert.deepEqual(e.trust_context, { score: 0.9 });
    assert.deepEqual(e.metadata, { source: 'test' });
    assert.equal(e.next_run_at.toISOString(), runAt.toISOString());
    const [audit] = await auditRowsOf(e.id);
    assert.equal(audit?.actor_type, 'operator');
    assert.equal(audit?.actor_id, 'alice');
    const same = await asService().enqueue({ ...draft({ external_id: 'env-slug-both' }), slug: GMAIL });
    assert.equal(same.tool_slug, GMAIL);
  });

  it('takes the risk from the tenant catalog entry last updated, else medium', async () => {
    await owner((tx) => tx.query(
      `insert into tool_catalog (tenant_id, tool_slug, version, risk, updated_at) values
         ($1, 'HUBSPOT__deal.update', '1', 'low', '2025-01-01'), ($1, 'HUBSPOT__deal.update', '2', 'high', '2025-02-01'),
         ($1, 'ZENDESK__ticket.close', '1', 'high', '2025-01-01'), ($1, 'ZENDESK__ticket.close', '2', null, '2025-02-01')`,
      [A]));
    const risk = async (input: EnqueueInput) => (await asService().enqueue(input)).risk;
    assert.equal(await risk(draft({ tool_slug: 'HUBSPOT__deal.update' })), 'high');
    assert.equal(await risk(draft({ tool_slug: 'HUBSPOT__deal.update', risk: 'low' })), 'low');
    assert.equal(await risk(draft({ tool_slug: 'ZENDESK__ticket.close' })), 'medium'); // newest entry has no tier
    assert.equal(await risk(draft({ tenant_id: B, tool_slug: 'HUBSPOT__deal.update' })), 'medium'); // A's catalog only
    assert.equal(await risk(draft({ tool_slug: 'UNLISTED__tool' })), 'medium');
  });

  it('returns the existing envelope for a repeated (tenant_id, external_id) and audits it once', async () => {
    const first = await asService().enqueue(draft({ external_id: 'env-dup', arguments: { n: 1 } }));
    const again = await asService().enqueue(draft({ external_id: 'env-dup', arguments: { n: 2 }, risk: 'low' }));
    assert.equal(again.created, false);
    assert.equal(again.id, first.id);
    assert.deepEqual(again.arguments, { n: 1 });
    assert.equal(again.risk, 'medium');
    assert.equal(await countOf(`outbox where external_id = 'env-dup'`), 1);
    assert.equal((await auditRowsOf(first.id)).length, 1);
    // The key is per tenant: B's envelope with the same key is a different one.
    const other = await asService().enqueue(draft({ tenant_id: B, external_id: 'env-dup' }));
    assert.equal(other.created, true);
    assert.notEqual(other.id, first.id);
  });

  it('returns a dead-lettered envelope for its key, with status dlq, and creates nothing', async () => {
    const dlqId = await insertDlq(A, 'env-dead');
    const before = await totals();
    const e = await asService().enqueue(draft({ external_id: 'env-dead' }));
    assert.equal(e.created, false);
    assert.equal(e.id, dlqId);
    assert.ok(e.status === 'dlq');
    assert.ok(e.moved_at instanceof Date);
    assert.deepEqual(e.arguments, { dead: true });
    assert.equal(e.last_error, 'HTTP 500');
    const [batched] = await asService().enqueueMany([draft({ external_id: 'env-dead' })]);
    assert.equal(batched?.id, dlqId);
    assert.equal(batched?.status, 'dlq');
    assert.deepEqual(await totals(), before);
    const got = await asService().get(dlqId);
    assert.ok(got.status === 'dlq');
    assert.equal(got.attempts, 3);
  });

  it('concurrent enqueues of one key create it once', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      asService().enqueue(draft({ external_id: 'env-race', arguments: { caller: i } }))));
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal((await auditRowsOf(results[0]!.id)).length, 1);
  });

  // Needs a second connection while the enqueue transaction is open: PGlite has one
  // session, so this race cannot happen there and the test runs on PostgreSQL only.
  if (backend === 'postgres') it('retries when the key is dead-lettered while it is being enqueued', async () => {
    // Another transaction dead-letters the key and holds tenant A's audit chain lock:
    // enqueue's insert does not see the uncommitted DLQ row, so it creates the envelope,
    // then waits for that lock to write its audit row. Once the other commits, the
    // read-back sees the key in both tables: enqueue must roll back and run again.
    let locked!: () => void;
    const lockHeld = new Promise<void>((resolve) => (locked = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const other = owner(async (tx) => {
      await tx.query(`insert into outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, attempts, last_error, moved_at)
                      values (gen_random_uuid(), $1, $2, '{"dead": true}', 'env-racing-dlq', 3, 'HTTP 500', now())`, [A, GMAIL]);
      await tx.query(`insert into audit_log (tenant_id, actor_type, actor_id, category, payload) values ($1, 'system', 'test', 'outbox', '{}')`, [A]);
      locked();
      await held;
    });
    await lockHeld;
    const enqueued = asService().enqueue(draft({ external_id: 'env-racing-dlq' }));
    const waitingForChainLock = async () => (await countOf(
      `pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`)) > 0;
    for (let i = 0; !(await waitingForChainLock()); i++) {
      assert.ok(i < 1000, 'enqueue never waited for the audit chain lock');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    release();
    await other;
    const e = await enqueued;
    assert.equal(e.created, false);
    assert.equal(e.status, 'dlq');
    assert.equal(await countOf(`outbox where external_id = 'env-racing-dlq'`), 0);
    assert.equal(await countOf(`audit_log where payload ->> 'external_id' = 'env-racing-dlq'`), 0);
  });

  it('enqueueMany: results in input order, duplicates resolved, one audit row per new envelope', async () => {
    const existing = await asService().enqueue(draft({ external_id: 'env-batch-existing' }));
    const auditBefore = await countOf(`audit_log where category = 'outbox'`);
    const results = await asService().enqueueMany([
      draft({ external_id: 'env-batch-1', arguments: { i: 0 } }),
      draft({ tenant_id: B, external_id: 'env-batch-2', arguments: { i: 1 } }),
      draft({ external_id: 'env-batch-existing', arguments: { i: 2 } }),
      draft({ arguments: { i: 3 } }),
      draft({ external_id: 'env-batch-1', arguments: { i: 4 } }),
    ]);
    assert.deepEqual(results.map((r) => r.created), [true, true, false, true, false]);
    assert.deepEqual(results.map((r) => r.arguments), [{ i: 0 }, { i: 1 }, existing.arguments, { i: 3 }, { i: 0 }]);
    assert.deepEqual(results.map((r) => r.tenant_id), [A, B, A, A, A]);
    assert.equal(results[2]!.id, existing.id);
    assert.equal(results[4]!.id, results[0]!.id);
    assert.match(results[3]!.external_id, UUID);
    assert.equal(await countOf(`audit_log where category = 'outbox'`), auditBefore + 3);
    for (const r of results.filter((x) => x.created)) assert.equal((await auditRowsOf(r.id)).length, 1);
    const audit = new SqlAuditLogger(ctx().service());
    assert.deepEqual(await audit.verify(A), []);
    assert.deepEqual(await audit.verify(B), []);
    assert.deepEqual(await asService().enqueueMany([]), []);
  });

  it('rejects invalid input naming the field, and changes nothing', async () => {
    const before = await totals();
    const big = (bytes: number) => ({ blob: 'x'.repeat(bytes) });
    const cases: [EnqueueInput, string][] = [
      [draft({ tenant_id: 'not-a-uuid' }), 'tenant_id'],
      [{ tenant_id: A, arguments: {} }, 'tool_slug'],
      [draft({ tool_slug: 'two words' }), 'tool_slug'],
      [draft({ slug: 'OTHER__tool' }), 'slug'],
      [{ tenant_id: A, tool_slug: GMAIL } as EnqueueInput, 'arguments'],
      [draft({ arguments: [1, 2] as never }), 'arguments'],
      [draft({ arguments: big(256 * 1024) }), 'arguments'],
      [draft({ trust_context: big(64 * 1024) }), 'trust_context'],
      [draft({ metadata: big(64 * 1024) }), 'metadata'],
      [draft({ risk: 'extreme' as never }), 'risk'],
      [draft({ external_id: '' }), 'external_id'],
      [draft({ connected_account_id: '' }), 'connected_account_id'],
      [draft({ next_run_at: 'tomorrow' }), 'next_run_at'],
      [draft({ actor_id: '' }), 'actor_id'],
    ];
    for (const [input, field] of cases) await rejectsWith(asService().enqueue(input), 'invalid_input', field);
    const extra = await rejectsWith(asService().enqueue({ ...draft(), priority: 1 } as never), 'invalid_input');
    assert.match(extra.message, /priority/);
    await rejectsWith(asService().enqueue(null as never), 'invalid_input', 'input');
    assert.deepEqual(await totals(), before);
  });

  it('applies the database size limit to JSON as PostgreSQL stores it', async () => {
    // jsonb's text form is `{"blob": "…"}`: one byte more than JSON.stringify's.
    const fits = await asService().enqueue(draft({ arguments: { blob: 'x'.repeat(256 * 1024 - 12) } }));
    assert.equal(fits.created, true);
    const before = await totals();
    await rejectsWith(asService().enqueue(draft({ arguments: { blob: 'x'.repeat(256 * 1024 - 11) } })), 'invalid_input', 'arguments');
    assert.deepEqual(await totals(), before);
  });

  it('an unknown tenant is not_found naming tenant_id (with its index in a batch)', async () => {
    const before = await totals();
    await rejectsWith(asService().enqueue(draft({ tenant_id: UNKNOWN })), 'not_found', 'tenant_id');
    await rejectsWith(asService().enqueueMany([draft(), draft({ tenant_id: UNKNOWN })]), 'not_found', '1.tenant_id');
    assert.deepEqual(await totals(), before);
  });

  it('a batch with an invalid entry names it by index and writes nothing', async () => {
    const before = await totals();
    await rejectsWith(asService().enqueueMany([draft(), draft({ arguments: 'x' as never })]), 'invalid_input', '1.arguments');
    await rejectsWith(asService().enqueueMany([draft(), draft(), draft({ risk: 'none' as never })]), 'invalid_input', '2.risk');
    await rejectsWith(asService().enqueueMany([draft(), { ...draft(), extra: true } as never]), 'invalid_input', '1');
    await rejectsWith(asService().enqueueMany({} as never), 'invalid_input', 'inputs');
    await rejectsWith(asService().enqueueMany(Array.from({ length: 1001 }, () => draft())), 'invalid_input', 'inputs');
    assert.deepEqual(await totals(), before);
  });

  it('a tenant cannot enqueue, not even for itself, and nothing changes', async () => {
    const before = await totals();
    await rejectsWith(asTenant(A).enqueue(draft()), 'forbidden');
    await rejectsWith(asTenant(A).enqueueMany([draft(), draft()]), 'forbidden');
    assert.deepEqual(await totals(), before);
  });

  it('get: not_found for unknown or another tenant\'s envelope, invalid_input for a malformed id', async () => {
    const mine = await asService().enqueue(draft({ tenant_id: B, external_id: 'env-b-own' }));
    const theirs = await asService().enqueue(draft({ external_id: 'env-a-private' }));
    const theirDead = await insertDlq(A, 'env-a-dead');
    assert.equal((await asTenant(B).get(mine.id)).id, mine.id);
    assert.equal((await asTenant(A).get(theirs.id)).id, theirs.id);
    assert.equal((await asTenant(A).get(theirDead)).status, 'dlq');
    await rejectsWith(asTenant(B).get(theirs.id), 'not_found', 'id');
    await rejectsWith(asTenant(B).get(theirDead), 'not_found', 'id');
    await rejectsWith(asService().get(UNKNOWN), 'not_found', 'id');
    await rejectsWith(asService().get('nope'), 'invalid_input', 'id');
  });

  it('listByStatus: by status and tenant, oldest first; a tenant sees only its own', async () => {
    const done = await asService().enqueue(draft({ external_id: 'env-done' }));
    await owner((tx) => tx.query(`update outbox set status = 'success' where id = $1`, [done.id]));
    const success = await asService().listByStatus({ status: 'success' });
    assert.deepEqual(success.map((e) => e.id), [done.id]);
    assert.equal(success[0]!.status, 'success');
    const pendingA = await asService().listByStatus({ status: 'pending', tenant_id: A });
    assert.ok(pendingA.length > 3 && pendingA.every((e) => e.tenant_id === A && e.status === 'pending'));
    const times = pendingA.map((e) => e.created_at.getTime());
    assert.deepEqual(times, [...times].sort((x, y) => x - y));
    assert.equal((await asService().listByStatus({ status: 'pending', limit: 2 })).length, 2);
    const pendingAll = await asService().listByStatus({ status: 'pending', limit: 1000 });
    assert.ok(pendingAll.some((e) => e.tenant_id === B));
    const asB = await asTenant(B).listByStatus({ status: 'pending', limit: 1000 });
    assert.deepEqual(asB.map((e) => e.id), pendingAll.filter((e) => e.tenant_id === B).map((e) => e.id));
    assert.deepEqual(await asTenant(B).listByStatus({ status: 'pending', tenant_id: A }), []);
    assert.deepEqual(await asTenant(B).listByStatus({ status: 'success' }), []);
    await rejectsWith(asService().listByStatus({ status: 'failed' as never }), 'invalid_input', 'status');
    await rejectsWith(asService().listByStatus({ status: 'dlq' as never }), 'invalid_input', 'status');
    await rejectsWith(asService().listByStatus({ status: 'pending', limit: 0 }), 'invalid_input', 'limit');
    await rejectsWith(asService().listByStatus({ status: 'pending', tenant_id: 'x' }), 'invalid_input', 'tenant_id');
  });

  it('listDlq: most recently moved first; a tenant sees only its own', async () => {
    const older = await insertDlq(B, 'env-b-dead-1', '2025-03-01T00:00:00Z');
    const newer = await insertDlq(B, 'env-b-dead-2', '2025-04-01T00:00:00Z');
    assert.deepEqual((await asService().listDlq({ tenant_id: B })).map((e) => e.id), [newer, older]);
    assert.deepEqual((await asTenant(B).listDlq()).map((e) => e.id), [newer, older]);
    const all = await asService().listDlq();
    assert.ok(all.some((e) => e.tenant_id === A) && all.some((e) => e.tenant_id === B));
    assert.ok(all.every((e) => e.status === 'dlq' && e.moved_at instanceof Date));
    assert.equal((await asService().listDlq({ limit: 1 })).length, 1);
    assert.ok((await asTenant(A).listDlq()).every((e) => e.tenant_id === A));
    assert.deepEqual(await asTenant(A).listDlq({ tenant_id: B }), []);
    await rejectsWith(asService().listDlq({ limit: 1001 }), 'invalid_input', 'limit');
    await rejectsWith(asService().listDlq({ status: 'dlq' } as never), 'invalid_input');
  });
}, { rest: true });
