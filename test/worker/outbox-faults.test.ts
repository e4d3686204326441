import assert from 'node:assert/strict';
import { it } from 'node:test';
import { resolveRetryPolicies } from '../../src/domain/retry-policy.ts';
import { serviceAccess } from '../../src/services/access.ts';
import { SqlOutboxService } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { ExecutionError } from '../../src/worker/executor.ts';
import { OutboxWorker } from '../../src/worker/outbox-worker.ts';
import { forEachBackend } from '../support/backends.ts';
import { ScriptedExecutor, sleep } from '../support/scripted-executor.ts';

// The live worker against a misbehaving provider, and against a database that drops its
// connections. Retry delays are shortened so the run takes seconds; the rules are the
// production ones.

const POLICIES = resolveRetryPolicies({
  low: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100 },
  medium: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
  high: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
});
const RETRY_AFTER_MS = 300;
const RISKS = ['low', 'medium', 'high'] as const;

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let seq = 0;

forEachBackend('OutboxWorker under faults', (ctx, backend) => {
  async function load(n: number, tenants: number, concurrency_limit = 2): Promise<string[]> {
    const ids: string[] = [];
    const tenantIds: string[] = [];
    for (let t = 0; t < tenants; t++) {
      seq += 1;
      const id = `fa000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
      await new SqlTenantService(serviceAccess(ctx().db)).create({ id, name: `F${seq}`, concurrency_limit });
      tenantIds.push(id);
    }
    const res = await new SqlOutboxService(serviceAccess(ctx().db)).enqueueMany(Array.from({ length: n }, (_, i) => ({
      tenant_id: tenantIds[i % tenants]!, tool_slug: 'ANY__tool', arguments: { i }, risk: RISKS[i % 3]!,
    })));
    ids.push(...res.map((r) => r.id));
    return ids;
  }

  async function untilSettled(ids: string[], timeoutMs: number): Promise<{ open: number; success: number; dlq: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = (await ctx().test.owner.transaction((tx) => tx.query<{ open: number; success: number; dlq: number }>(
        `select (select count(*)::int from outbox where id = any($1) and status not in ('success', 'conflict', 'rejected')) as open,
                (select count(*)::int from outbox where id = any($1) and status = 'success') as success,
                (select count(*)::int from outbox_dlq where id = any($1)) as dlq`, [ids]))).rows[0]!;
      if (r.open === 0 || Date.now() > deadline) return r;
      await sleep(100);
    }
  }

  it('30% 5xx, 10% timeouts, 5% 429 + Retry-After: every envelope ends in success or the DLQ, within its tier\'s attempts', async () => {
    const ids = await load(150, 10);
    const random = seeded(4242);
    const timeline = new Map<string, { at: number; outcome: string }[]>();
    const executor = new ScriptedExecutor(async (envelope, _call, context) => {
      const r = random();
      const outcome = r < 0.3 ? '5xx' : r < 0.4 ? 'timeout' : r < 0.45 ? '429' : 'ok';
      timeline.set(envelope.id, [...(timeline.get(envelope.id) ?? []), { at: Date.now(), outcome }]);
      if (outcome === '5xx') throw new ExecutionError('retryable', 'HTTP 503', { status: 503 });
      if (outcome === 'timeout') await sleep(10_000, context.signal);
      if (outcome === '429') throw new ExecutionError('retryable', 'HTTP 429', { status: 429, retryAfterMs: RETRY_AFTER_MS });
      return { ok: true };
    });
    const workerErrors: unknown[] = [];
    const worker = new OutboxWorker(ctx().db, executor, { concurrency: 8, batchSize: 10, pollIntervalMs: 50, executionTimeoutMs: 40, retryPolicies: POLICIES, onError: (e) => workerErrors.push(e) });
    worker.start();
    const settled = await untilSettled(ids, 60_000);
    await worker.stop();

    assert.deepEqual(workerErrors.map(String), [], 'the worker met no database error');
    assert.equal(settled.open, 0);
    assert.equal(settled.success + settled.dlq, ids.length);
    assert.ok(settled.dlq > 0 && settled.success > settled.dlq, `success ${settled.success}, dlq ${settled.dlq}`);
    const rows = (await ctx().test.owner.transaction((tx) => tx.query<{ id: string; risk: 'low' | 'medium' | 'high'; attempts: number; status: string }>(
      `select id, risk, attempts, status from outbox where id = any($1) union all select id, risk, attempts, status from outbox_dlq where id = any($1)`, [ids]))).rows;
    for (const r of rows) {
      const calls = timeline.get(r.id) ?? [];
      assert.ok(calls.length <= POLICIES[r.risk].maxAttempts, `${r.id} (${r.risk}) ran ${calls.length} times`);
      assert.equal(r.attempts, calls.length, `${r.id}: attempts recorded = executions`);
      if (r.status === 'dlq') assert.equal(calls.length, POLICIES[r.risk].maxAttempts, 'only exhausted envelopes are dead-lettered');
      // Retry-After is honoured: the next call comes no sooner than asked.
      calls.forEach((c, i) => {
        const next = calls[i + 1];
        if (c.outcome === '429' && next) assert.ok(next.at - c.at >= RETRY_AFTER_MS - 5, `${r.id}: retried ${next.at - c.at} ms after a 429`);
      });
    }
  });

  if (backend === 'postgres') {
    it('database connections killed mid-run (pg_terminate_backend): the worker carries on and loses nothing', async () => {
      const ids = await load(300, 20, 1);
      const executor = new ScriptedExecutor(() => sleep(3).then(() => ({ ok: true })));
      const errors: unknown[] = [];
      const worker = new OutboxWorker(ctx().db, executor, { concurrency: 8, batchSize: 10, pollIntervalMs: 100, leaseSeconds: 2, onError: (e) => errors.push(e) });
      worker.start();
      await sleep(300);
      const killer = ctx().test.owner;
      for (let round = 0; round < 3; round++) {
        await killer.transaction((tx) => tx.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`));
        await sleep(250);
      }
      const settled = await untilSettled(ids, 60_000);
      await worker.stop();
      assert.deepEqual(settled, { open: 0, success: ids.length, dlq: 0 });
      assert.ok(errors.length > 0, 'the kills were felt (and survived)');
      assert.equal(executor.maxConcurrentPerTenant, 1);
    });
  }
});
