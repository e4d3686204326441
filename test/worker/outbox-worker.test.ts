import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { DEFAULT_RETRY_POLICIES } from '../../src/domain/retry-policy.ts';
import { SqlCatalogService } from '../../src/services/catalog-service.ts';
import { SqlConnectedAccountService } from '../../src/services/connected-account-service.ts';
import { SqlGuardrailService, type UpsertGuardrailsInput } from '../../src/services/guardrail-service.ts';
import { SqlOutboxService, type EnqueueInput, type OutboxEnvelope } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { ExecutionError } from '../../src/worker/executor.ts';
import { SandboxExecutor } from '../../src/worker/executors/sandbox-executor.ts';
import { OutboxWorker, type OutboxWorkerOptions } from '../../src/worker/outbox-worker.ts';
import { forEachBackend } from '../support/backends.ts';
import { ScriptedExecutor, sleep } from '../support/scripted-executor.ts';

// The worker end to end on each engine: claim → guardrails → executor → completion, with
// the state and audit trail each path must leave. The clock is fixed unless a test runs
// the live loop.

const T0 = new Date('2026-06-01T12:00:00Z'); // a Monday, noon UTC
const TOOL = 'SLACK__chat.postMessage';
const SCOPE = 'SLACK.CHAT:WRITE';
let seq = 0;

forEachBackend('OutboxWorker', (ctx) => {
  const service = <T>(fn: (tx: Transaction) => Promise<T>) => ctx().db.asService(fn);

  /** A tenant whose guardrails let a trusted envelope through, with the tool and an account. */
  async function tenant(guardrails: Partial<UpsertGuardrailsInput> = {}, options: { timezone?: string; concurrency_limit?: number } = {}): Promise<string> {
    seq += 1;
    const id = `10000000-0000-4000-8000-${String(seq).padStart(12, '0')}`;
    await new SqlTenantService(ctx().service()).create({ id, name: `W${seq}`, ...options });
    await new SqlGuardrailService(ctx().service()).upsert({ tenant_id: id, trust_threshold: 0.5, require_evidence: false, ...guardrails });
    await new SqlCatalogService(ctx().service()).upsert({ tenant_id: id, tool_slug: TOOL, risk: 'medium', required_scopes: [SCOPE] });
    await new SqlConnectedAccountService(ctx().service()).create({ tenant_id: id, provider: 'slack', status: 'active', scopes: [SCOPE], metadata: { composio_id: `ca-${id}` } });
    return id;
  }

  async function enqueue(tenant_id: string, extra: Partial<EnqueueInput> = {}): Promise<string> {
    const e = await new SqlOutboxService(ctx().service()).enqueue({
      tenant_id, tool_slug: TOOL, arguments: { channel: '#ops', text: 'hi' }, connected_account_id: `ca-${tenant_id}`,
      trust_context: { score: 0.9 }, next_run_at: new Date(T0.getTime() - 1000), ...extra,
    });
    return e.id;
  }

  const worker = (executor: ConstructorParameters<typeof OutboxWorker>[1], options: OutboxWorkerOptions = {}) =>
    new OutboxWorker(ctx().db, executor, { workerId: 'test-worker', clock: () => T0, random: () => 0.5, batchSize: 50, ...options });
  const row = (id: string) => service(async (tx) => (await tx.query<OutboxEnvelope>('select * from outbox where id = $1', [id])).rows[0]);
  const dlq = (id: string) => service(async (tx) => (await tx.query<{ attempts: number; last_error: string }>('select * from outbox_dlq where id = $1', [id])).rows[0]);
  const audit = (id: string) => service(async (tx) => (await tx.query<{ payload: Record<string, unknown> }>(
    `select payload from audit_log where payload ->> 'envelope_id' = $1 order by id`, [id])).rows.map((r) => r.payload));
  const transitions = async (id: string) => (await audit(id)).map((p) => String(p.transition));
  const ok = new ScriptedExecutor(() => ({ ok: true }));

  it('executes an allowed envelope: success, its result stored, the decision audited, the key passed', async () => {
    const t = await tenant();
    const id = await enqueue(t);
    const executor = new ScriptedExecutor((e) => ({ echoed: e.arguments }));
    assert.deepEqual(await worker(executor).runOnce(), { claimed: 1, completed: 1 });
    const r = (await row(id))!;
    assert.deepEqual([r.status, r.attempts, r.result], ['success', 1, { echoed: { channel: '#ops', text: 'hi' } }]);
    assert.equal(executor.calls[0]?.idempotencyKey, r.external_id);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'succeed']);
    const last = (await audit(id)).at(-1)!;
    assert.equal(typeof last.latency_ms, 'number');
    assert.equal((last.decision as { checks: { trust: { allowed: boolean } } }).checks.trust.allowed, true);
  });

  it('quiet hours in the tenant\'s zone: deferred to the end of the window, no attempt used', async () => {
    const t = await tenant({ quiet_hours: { start: 13, end: 15 } }, { timezone: 'Europe/Berlin' }); // 14:00 in Berlin
    const id = await enqueue(t);
    await worker(ok).runOnce();
    const r = (await row(id))!;
    assert.deepEqual([r.status, r.attempts], ['pending', 0]);
    assert.equal(r.next_run_at.toISOString(), '2026-06-01T13:00:00.000Z'); // 15:00 CEST
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'defer']);
    assert.equal(((await audit(id)).at(-1)!.decision as { guardrail: string }).guardrail, 'quiet_hours');
  });

  it('a scope the tool needs but the account lacks: rejected, terminal, never executed', async () => {
    const t = await tenant();
    await new SqlCatalogService(ctx().service()).upsert({ tenant_id: t, tool_slug: TOOL, version: '2.0', required_scopes: [SCOPE, 'SLACK.FILES:WRITE'] });
    const id = await enqueue(t);
    const executor = new ScriptedExecutor(() => ({}));
    await worker(executor).runOnce();
    const r = (await row(id))!;
    assert.equal(r.status, 'rejected');
    assert.match(r.last_error ?? '', /slack\.files:write/i);
    assert.equal(executor.calls.length, 0);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'reject']);
  });

  it('an account that is not active grants nothing: rejected', async () => {
    const t = await tenant();
    const id = await enqueue(t, { connected_account_id: 'ca-unknown' });
    await worker(ok).runOnce();
    assert.equal((await row(id))!.status, 'rejected');
  });

  it('trust below the threshold waits for approval; once approved it runs without being asked again', async () => {
    const t = await tenant({ trust_threshold: 0.8 });
    const id = await enqueue(t, { trust_context: { score: 0.79 } });
    await worker(ok).runOnce();
    assert.equal((await row(id))!.status, 'awaiting_approval');
    await ctx().db.asTenant({ tenant_id: t, sub: 'c0ffee00-0000-4000-8000-000000000001' }, (tx) => tx.query('select public.approve_envelope($1)', [id]));
    // The RPC stamps next_run_at with the database clock, so this run uses the real one.
    await worker(ok, { clock: () => new Date() }).runOnce();
    const r = (await row(id))!;
    assert.deepEqual([r.status, r.approved_by], ['success', 'c0ffee00-0000-4000-8000-000000000001']);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'await_approval', 'approve', 'claim', 'succeed']);
  });

  it('required evidence: none → approval; with an evidence row for the envelope → executes', async () => {
    const t = await tenant({ require_evidence: true }, { concurrency_limit: 5 });
    const without = await enqueue(t);
    const withEvidence = await enqueue(t);
    await service((tx) => tx.query(`insert into evidence_embeddings (tenant_id, source_type, source_id, content) values ($1, 'proposal', $2, 'the renewal is due')`, [t, withEvidence]));
    await worker(ok).runOnce();
    assert.equal((await row(without))!.status, 'awaiting_approval');
    assert.equal((await row(withEvidence))!.status, 'success');
  });

  it('a retryable failure retries with the tier\'s jittered backoff; Retry-After wins', async () => {
    const t = await tenant({}, { concurrency_limit: 5 });
    const plain = await enqueue(t);
    const throttled = await enqueue(t);
    const executor = new ScriptedExecutor((e) => {
      throw e.id === throttled
        ? new ExecutionError('retryable', 'HTTP 429', { status: 429, retryAfterMs: 7000 })
        : new ExecutionError('retryable', 'HTTP 503', { status: 503 });
    });
    await worker(executor).runOnce();
    const p = (await row(plain))!;
    const medium = DEFAULT_RETRY_POLICIES.medium;
    assert.deepEqual([p.status, p.attempts, p.last_error], ['pending', 1, 'HTTP 503']);
    assert.equal(p.next_run_at.getTime() - T0.getTime(), Math.floor(0.5 * medium.baseDelayMs)); // random() = 0.5
    assert.equal((await row(throttled))!.next_run_at.getTime() - T0.getTime(), 7000);
    assert.deepEqual(await transitions(plain), ['enqueue', 'claim', 'retry']);
  });

  it('retries until the tier\'s attempts are used up, then dead-letters; never more attempts than the maximum', async () => {
    const t = await tenant();
    const id = await enqueue(t, { risk: 'high' });
    const executor = new ScriptedExecutor(() => { throw new ExecutionError('retryable', 'HTTP 502'); });
    let now = T0;
    for (let i = 0; i < 5; i++) {
      await worker(executor, { clock: () => now }).runOnce();
      now = new Date(now.getTime() + 3_600_000);
    }
    // Other tests' retries fall due as the clock moves; count this envelope's calls.
    assert.equal(executor.calls.filter((c) => c.id === id).length, DEFAULT_RETRY_POLICIES.high.maxAttempts);
    assert.equal(await row(id), undefined);
    const d = (await dlq(id))!;
    assert.equal(d.attempts, DEFAULT_RETRY_POLICIES.high.maxAttempts);
    assert.match(d.last_error, /HTTP 502 \(attempts exhausted: 2 of 2\)/);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'retry', 'claim', 'dead_letter']);
  });

  it('a permanent failure dead-letters at once; a 409 ends as conflict without retry or DLQ', async () => {
    const t = await tenant({}, { concurrency_limit: 5 });
    const bad = await enqueue(t);
    const dup = await enqueue(t);
    const executor = new ScriptedExecutor((e) => {
      throw e.id === bad ? new ExecutionError('permanent', 'HTTP 400: channel_not_found', { status: 400 }) : new ExecutionError('conflict', 'HTTP 409', { status: 409 });
    });
    await worker(executor).runOnce();
    assert.equal((await dlq(bad))!.attempts, 1);
    const c = (await row(dup))!;
    assert.deepEqual([c.status, c.attempts, c.last_error], ['conflict', 1, 'HTTP 409']);
  });

  it('an execution that outlives its timeout is aborted and retried', async () => {
    const t = await tenant();
    const id = await enqueue(t);
    const executor = new ScriptedExecutor((_e, _call, context) => sleep(5000, context.signal));
    await worker(executor, { executionTimeoutMs: 50 }).runOnce();
    const r = (await row(id))!;
    assert.deepEqual([r.status, r.attempts], ['pending', 1]);
    assert.match(r.last_error ?? '', /aborted/);
  });

  it('a long execution keeps its lease alive: recovery elsewhere does not take it', async () => {
    const t = await tenant();
    const id = await enqueue(t);
    const executor = new ScriptedExecutor(() => sleep(1600).then(() => ({ done: true })));
    const live = new OutboxWorker(ctx().db, executor, { workerId: 'slow-worker', leaseSeconds: 1, batchSize: 50 });
    const run = live.runOnce();
    await sleep(1300); // past the first lease, not past a renewed one
    const recovered = await service((tx) => tx.query<{ id: string }>('select * from steward.recover_expired_leases($1::jsonb)', [JSON.stringify({ low: 5, medium: 3, high: 2 })]));
    assert.ok(!recovered.rows.some((r) => r.id === id), 'the renewed lease was not taken');
    await run;
    assert.equal((await row(id))!.status, 'success');
  });

  it('the sandbox executor runs the demo tools deterministically and refuses unknown ones', async () => {
    const t = await tenant({}, { concurrency_limit: 5 });
    const good = await enqueue(t, { external_id: 'sandbox-1' });
    const unknown = await enqueue(t, { tool_slug: 'NOPE__thing' });
    await worker(new SandboxExecutor()).runOnce();
    assert.deepEqual((await row(good))!.result, { ok: true, channel: '#ops', ts: 'sandbox.sandbox-1' });
    assert.match((await dlq(unknown))!.last_error, /the sandbox has no tool NOPE__thing/);
  });

  it('the live loop drains several tenants, never running two envelopes of a serialized tenant at once', async () => {
    const tenants = [await tenant(), await tenant(), await tenant()];
    const ids: string[] = [];
    for (const t of tenants) for (let i = 0; i < 6; i++) ids.push(await enqueue(t, { next_run_at: new Date(Date.now() - 1000) }));
    const executor = new ScriptedExecutor(() => sleep(5).then(() => ({ ok: true })));
    const live = new OutboxWorker(ctx().db, executor, { concurrency: 4, batchSize: 4, pollIntervalMs: 200 });
    live.start();
    const deadline = Date.now() + 20_000;
    let done = 0;
    while (Date.now() < deadline) {
      done = (await service((tx) => tx.query<{ n: number }>(`select count(*)::int as n from outbox where id = any($1) and status = 'success'`, [ids]))).rows[0]!.n;
      if (done === ids.length) break;
      await sleep(50);
    }
    await live.stop();
    assert.equal(done, ids.length);
    assert.equal(executor.maxConcurrentPerTenant, 1);
    assert.equal(live.runningCount, 0);
  });

  it('takes back an expired lease, reports it through onRecovered, and runs the envelope again', async () => {
    const t = await tenant();
    const id = await enqueue(t, { next_run_at: new Date(T0.getTime() - 120_000) });
    // A worker that died 60 s ago holding a 30 s lease.
    await service((tx) => tx.query('select * from steward.claim_envelopes($1, $2, $3, $4)', ['dead-worker', 1, 30, new Date(T0.getTime() - 60_000)]));
    const recovered: { id: string; status: string }[] = [];
    await worker(ok, { onRecovered: (rows) => recovered.push(...rows) }).runOnce();
    assert.deepEqual(recovered, [{ id, status: 'pending' }]);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'abandon', 'claim', 'succeed']);
  });

  it('claims beyond its concurrency wait in a local queue: never more than `concurrency` execute at once', async () => {
    const t = await tenant({}, { concurrency_limit: 20 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await enqueue(t, { next_run_at: new Date(Date.now() - 1000) }));
    let running = 0;
    let most = 0;
    const executor = new ScriptedExecutor(async () => {
      most = Math.max(most, ++running);
      await sleep(10);
      running--;
      return { ok: true };
    });
    const live = new OutboxWorker(ctx().db, executor, { concurrency: 3, batchSize: 10, pollIntervalMs: 200 });
    live.start();
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && executor.calls.length < ids.length;) await sleep(20);
    await live.stop();
    assert.equal(most, 3);
    const statuses = await service(async (tx) => (await tx.query<{ status: string }>('select status from outbox where id = any($1)', [ids])).rows);
    assert.deepEqual(statuses.map((s) => s.status), ids.map(() => 'success'));
  });

  it('a worker waiting for room in its queue drains a backlog without waiting for its poll', async () => {
    // The poll is an hour: any drain that depends on it (a lost wake-up) does not finish.
    const t = await tenant({}, { concurrency_limit: 100 });
    const ids = (await new SqlOutboxService(ctx().service()).enqueueMany(Array.from({ length: 300 }, (_, i) => ({
      tenant_id: t, tool_slug: TOOL, arguments: { i }, connected_account_id: `ca-${t}`, trust_context: { score: 0.9 }, next_run_at: new Date(Date.now() - 1000),
    })))).map((e) => e.id);
    const live = new OutboxWorker(ctx().db, ok, { concurrency: 4, batchSize: 20, pollIntervalMs: 3_600_000 });
    live.start();
    const done = () => service(async (tx) => (await tx.query<{ n: number }>(`select count(*)::int as n from outbox where id = any($1) and status = 'success'`, [ids])).rows[0]!.n);
    let n = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && (n = await done()) < ids.length;) await sleep(50);
    await live.stop();
    assert.equal(n, ids.length);
  });

  it('stopping hands back claimed envelopes that never started: pending, no attempt used, audited as release', async () => {
    const t = await tenant({}, { concurrency_limit: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueue(t, { next_run_at: new Date(Date.now() - 1000) }));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const executor = new ScriptedExecutor(() => gate.then(() => ({ ok: true })));
    const live = new OutboxWorker(ctx().db, executor, { concurrency: 1, batchSize: 5, pollIntervalMs: 200 });
    live.start();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && executor.calls.length === 0;) await sleep(10);
    const stopped = live.stop();
    await sleep(50); // the stop has released the waiting ones while the first still runs
    open();
    await stopped;
    assert.equal(executor.calls.length, 1);
    const started = executor.calls[0]!.id;
    for (const id of ids) {
      const r = (await row(id))!;
      if (id === started) {
        assert.deepEqual([r.status, r.attempts], ['success', 1]);
        assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'succeed']);
      } else {
        assert.deepEqual([r.status, r.attempts, r.locked_by], ['pending', 0, null]);
        assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'release']);
      }
    }
  });
});
