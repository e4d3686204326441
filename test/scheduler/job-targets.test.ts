import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { runJob } from '../../src/scheduler/run-job.ts';
import { serviceAccess } from '../../src/services/access.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachEngine } from '../support/engines.ts';

// The jobs the migration defines: what each run enqueues or removes, on both engines.

const A = '60000000-0000-4000-8000-00000000000a';
const B = '60000000-0000-4000-8000-00000000000b';
const C = '60000000-0000-4000-8000-00000000000c'; // accounts never authorised or revoked only
const TICK = new Date('2026-02-01T10:30:00Z');

interface EnvelopeRow {
  tenant_id: string;
  tool_slug: string;
  arguments: Record<string, unknown>;
  external_id: string;
  risk: string;
  status: string;
  approved_by: string | null;
  metadata: Record<string, unknown>;
  next_run_at: Date;
}

forEachEngine('the scheduled jobs\' targets', (db) => {
  const run = (job: string, tick: Date | null) => runJob(db().db, { job, runner: tick ? 'in_process' : 'manual', tick, runnerId: 'test' });
  const envelopes = async (slug: string): Promise<EnvelopeRow[]> => (await db().owner.transaction((tx) => tx.query<EnvelopeRow>(
    `select tenant_id, tool_slug, arguments, external_id, risk, status, approved_by, metadata, next_run_at
       from outbox where tool_slug = $1 order by tenant_id, external_id`, [slug]))).rows;

  before(async () => {
    const tenants = new SqlTenantService(serviceAccess(db().db));
    for (const [id, name] of [[A, 'A'], [B, 'B'], [C, 'C']] as const) await tenants.create({ id, name });
    await db().owner.transaction((tx) => tx.query(
      `insert into connected_accounts (tenant_id, provider, status) values
         ($1, 'slack', 'active'), ($1, 'Gmail', 'expired'), ($1, 'slack', 'active'),
         ($2, 'hubspot', 'inactive'),
         ($3, 'notion', 'pending'), ($3, 'github', 'revoked')`, [A, B, C]));
  });

  it('trickle refresh: one steward.catalog.refresh {toolkit} per tenant and linked toolkit, approved, spread, once per tick', async () => {
    const first = await run('catalog.trickle-refresh', TICK);
    assert.equal(first?.status, 'succeeded');
    assert.equal(first?.message, 'enqueued 3 catalog refresh envelope(s) for 3 tenant-toolkit pair(s) with linked accounts');
    const rows = await envelopes('steward.catalog.refresh');
    assert.deepEqual(rows.map((r) => [r.tenant_id, r.arguments, r.external_id]), [
      [A, { toolkit: 'gmail' }, 'job:catalog.trickle-refresh:2026-02-01T10:30:00.000000Z:gmail'],
      [A, { toolkit: 'slack' }, 'job:catalog.trickle-refresh:2026-02-01T10:30:00.000000Z:slack'],
      [B, { toolkit: 'hubspot' }, 'job:catalog.trickle-refresh:2026-02-01T10:30:00.000000Z:hubspot'],
    ]);
    for (const r of rows) {
      assert.deepEqual([r.risk, r.status, r.approved_by, r.metadata], ['low', 'pending', 'steward:system', { system: true, job: 'catalog.trickle-refresh' }]);
      const offset = r.next_run_at.getTime() - TICK.getTime();
      assert.ok(offset >= 0 && offset < 25 * 60_000, `due within the 25-minute spread: ${offset} ms`);
    }
    // The next tick, while these are still pending: nothing piles up behind them.
    const next = await run('catalog.trickle-refresh', new Date('2026-02-01T11:00:00Z'));
    assert.equal(next?.message, 'enqueued 0 catalog refresh envelope(s) for 3 tenant-toolkit pair(s) with linked accounts');
    assert.equal((await envelopes('steward.catalog.refresh')).length, 3);
  });

  it('trickle refresh of a category: only the toolkits named', async () => {
    await db().owner.transaction((tx) => tx.query(`delete from outbox where tool_slug = 'steward.catalog.refresh'`));
    await db().owner.transaction((tx) => tx.query(
      `update steward.jobs set arguments = '{"toolkits": ["HubSpot"], "spread_minutes": 0}' where name = 'catalog.trickle-refresh'`));
    const tick = new Date('2026-02-01T12:00:00Z');
    await run('catalog.trickle-refresh', tick);
    assert.deepEqual((await envelopes('steward.catalog.refresh')).map((r) => [r.tenant_id, r.arguments, r.next_run_at]), [[B, { toolkit: 'hubspot' }, tick]]);
  });

  it('drift monitor: one steward.catalog.drift {} per tenant with a linked account', async () => {
    const done = await run('catalog.drift-monitor', new Date('2026-02-01T11:00:00Z'));
    assert.equal(done?.message, 'enqueued 2 catalog drift envelope(s) for 2 tenant(s) with linked accounts');
    assert.deepEqual((await envelopes('steward.catalog.drift')).map((r) => [r.tenant_id, r.arguments, r.external_id, r.approved_by]), [
      [A, {}, 'job:catalog.drift-monitor:2026-02-01T11:00:00.000000Z', 'steward:system'],
      [B, {}, 'job:catalog.drift-monitor:2026-02-01T11:00:00.000000Z', 'steward:system'],
    ]);
    const audit = await db().owner.transaction((tx) => tx.query<{ actor_type: string; actor_id: string }>(
      `select actor_type, actor_id from audit_log where category = 'outbox' and payload ->> 'tool_slug' = 'steward.catalog.drift'`));
    assert.deepEqual(audit.rows, [{ actor_type: 'system', actor_id: 'scheduler:catalog.drift-monitor' }, { actor_type: 'system', actor_id: 'scheduler:catalog.drift-monitor' }]);
  });

  it('embedding re-indexer: one steward.evidence.reindex {} per tenant, for the worker to embed', async () => {
    const done = await run('embeddings.reindex', new Date('2026-02-02T03:30:00Z'));
    const tenants = (await db().owner.transaction((tx) => tx.query<{ id: string }>('select id from tenants order by id'))).rows.map((r) => r.id);
    assert.ok(tenants.length > 0);
    assert.equal(done?.status, 'succeeded');
    assert.equal(done?.message, `enqueued ${tenants.length} evidence re-index envelope(s) for ${tenants.length} tenant(s)`);
    assert.deepEqual((await envelopes('steward.evidence.reindex')).map((r) => [r.tenant_id, r.arguments, r.approved_by]), tenants.map((t) => [t, {}, 'steward:system']));
  });

  it('lease recovery: an envelope whose lease expired is pending again', async () => {
    await db().owner.transaction((tx) => tx.query(
      `insert into outbox (tenant_id, tool_slug, arguments, status, locked_by, locked_until, external_id)
       values ($1, 'SLACK__chat.postMessage', '{}', 'in_progress', 'dead-worker', now() - interval '1 minute', 'lease-test')`, [A]));
    const done = await run('outbox.recover-leases', null);
    assert.equal(done?.message, 'recovered 1 envelope(s) from expired leases (0 dead-lettered)');
    const row = await db().owner.transaction((tx) => tx.query<{ status: string; attempts: number }>(`select status, attempts from outbox where external_id = 'lease-test'`));
    assert.deepEqual(row.rows, [{ status: 'pending', attempts: 1 }]);
  });

  it('retention: finished envelopes older than older_than go, in batches, one audit row per tenant and batch; the rest stay', async () => {
    await db().owner.transaction(async (tx) => {
      await tx.query(`delete from outbox`);
      await tx.query(
        `insert into outbox (tenant_id, tool_slug, arguments, status, external_id)
         select t, 'X__y', '{}', s, format('ret-%s-%s-%s', t, s, n)
           from unnest(array[$1, $2]::uuid[]) t, unnest(array['success', 'conflict', 'rejected', 'pending', 'awaiting_approval']) s,
                generate_series(1, 3) n`, [A, B]);
      // updated_at is set by trigger on update; age the rows with the trigger off.
      await tx.exec(`alter table outbox disable trigger outbox_set_updated_at;
        update outbox set updated_at = now() - interval '40 days' where external_id like 'ret-%' and external_id not like '%-3';
        alter table outbox enable trigger outbox_set_updated_at;`);
      await tx.query(`insert into outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, moved_at) values (gen_random_uuid(), $1, 'X__y', '{}', 'old-dead', now() - interval '90 days')`, [A]);
    });
    await db().owner.transaction((tx) => tx.query(
      `update steward.jobs set arguments = '{"older_than": "30 days", "batch_size": 5, "max_batches": 10}' where name = 'outbox.purge-finished'`));
    const done = await run('outbox.purge-finished', null);
    assert.equal(done?.message, 'purged 12 finished envelope(s) older than 30 days in 3 batch(es)');
    const left = await db().owner.transaction((tx) => tx.query<{ status: string; n: number }>(
      `select status, count(*)::int as n from outbox where external_id like 'ret-%' group by status order by status`));
    // 2 tenants × (2 old pending + 2 old awaiting + 1 recent of each of the 5 statuses)
    assert.deepEqual(left.rows, [{ status: 'awaiting_approval', n: 6 }, { status: 'conflict', n: 2 }, { status: 'pending', n: 6 }, { status: 'rejected', n: 2 }, { status: 'success', n: 2 }]);
    const dlq = await db().owner.transaction((tx) => tx.query(`select 1 from outbox_dlq where external_id = 'old-dead'`));
    assert.equal(dlq.rowCount, 1, 'dead letters wait for a person');
    const audit = await db().owner.transaction((tx) => tx.query<{ tenant_id: string; count: number }>(
      `select tenant_id, sum((payload ->> 'count')::int)::int as count from audit_log where category = 'retention' group by tenant_id order by tenant_id`));
    assert.deepEqual(audit.rows, [{ tenant_id: A, count: 6 }, { tenant_id: B, count: 6 }]);
  });

  it('retention refuses less than an hour (recorded as a failed run)', async () => {
    await db().owner.transaction((tx) => tx.query(`update steward.jobs set arguments = '{"older_than": "5 minutes"}' where name = 'outbox.purge-finished'`));
    const done = await run('outbox.purge-finished', null);
    assert.equal(done?.status, 'failed');
    assert.equal(done?.message, 'purge_finished_envelopes: older_than must be at least 1 hour (SQLSTATE 22023)');
  });

  it('run-log retention: finished runs older than older_than go', async () => {
    await db().owner.transaction((tx) => tx.query(`update steward.job_runs set started_at = started_at - interval '100 days' where job_name = 'embeddings.reindex'`));
    const done = await run('scheduler.purge-runs', null);
    assert.equal(done?.message, 'purged 1 job run(s) older than 90 days');
  });
});
