import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import type { Completion } from '../../src/domain/envelope-outcome.ts';
import { createHealthHandlers, startHealthServer, type HealthServer } from '../../src/http/health-server.ts';
import { SqlCatalogService } from '../../src/services/catalog-service.ts';
import { SqlConnectedAccountService } from '../../src/services/connected-account-service.ts';
import { SqlGuardrailService } from '../../src/services/guardrail-service.ts';
import { SqlOutboxOperations } from '../../src/services/outbox-operations.ts';
import { SqlOutboxService, type EnqueueInput } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { ExecutionError } from '../../src/worker/executor.ts';
import { OutboxMetrics } from '../../src/worker/outbox-metrics.ts';
import { OutboxWorker } from '../../src/worker/outbox-worker.ts';
import { forEachBackend } from '../support/backends.ts';
import { parsePrometheus, sampleValue, type Scrape } from '../support/prometheus.ts';
import { ScriptedExecutor, sleep } from '../support/scripted-executor.ts';

// The worker's telemetry: a known run through the real worker on each engine, scraped
// over HTTP, every seed metric checked by value; /healthz following the live loop. The
// counting rules themselves are first checked without a database.

const T0 = new Date('2026-06-01T12:00:00Z');
const NOW_MS = 1_780_000_000_000; // the metrics' own clock (the per-minute window)
const TOOL = 'SLACK__chat.postMessage';
const SCOPE = 'SLACK.CHAT:WRITE';
const TENANT = '30000000-0000-4000-8000-000000000001';

const completion = (c: Partial<Completion> & Pick<Completion, 'to' | 'transition' | 'attempted'>): Completion => ({ id: 'e', ...c });
const scrape = async (metrics: OutboxMetrics): Promise<Scrape> => parsePrometheus(await metrics.metrics());

describe('OutboxMetrics counting rules', () => {
  it('maps every completion: success, retry, failed; guardrail holds are decisions, not processing', async () => {
    const m = new OutboxMetrics({ now: () => NOW_MS });
    const e = { tenant_id: TENANT };
    m.observe(e, completion({ to: 'success', transition: 'succeed', attempted: true, latency_ms: 3 }));
    m.observe(e, completion({ to: 'pending', transition: 'retry', attempted: true, latency_ms: 3 }));
    m.observe(e, completion({ to: 'dlq', transition: 'dead_letter', attempted: true, latency_ms: 3 }));
    m.observe(e, completion({ to: 'conflict', transition: 'conflict', attempted: true, latency_ms: 3 }));
    m.observe(e, completion({ to: 'rejected', transition: 'reject', attempted: false, decision: { guardrail: 'scopes' } }));
    m.observe(e, completion({ to: 'pending', transition: 'defer', attempted: false, decision: { guardrail: 'quiet_hours' } }));
    m.observe(e, completion({ to: 'awaiting_approval', transition: 'await_approval', attempted: false, decision: { guardrail: 'evidence' } }));
    // Refused by the database (lease lost): the recovering worker counts it, not this one.
    m.observe(e, completion({ to: 'success', transition: 'succeed', attempted: true, latency_ms: 3 }), { applied: false });
    const s = await scrape(m);
    const processed = (status: string) => sampleValue(s, 'outbox_processed_total', { tenant: TENANT, status });
    assert.deepEqual([processed('success'), processed('retry'), processed('failed')], [1, 1, 3]);
    assert.equal(sampleValue(s, 'outbox_retry_total', { tenant: TENANT }), 1);
    assert.equal(sampleValue(s, 'outbox_attempts_total', { tenant: TENANT }), 4);
    assert.equal(sampleValue(s, 'outbox_conflicts_total', { tenant: TENANT }), 1);
    assert.equal(sampleValue(s, 'outbox_processing_duration_seconds_count'), 4);
    assert.equal(sampleValue(s, 'outbox_processed_per_minute'), 5);
    const decision = (guardrail: string, d: string) => sampleValue(s, 'guardrail_decisions_total', { guardrail, decision: d });
    assert.deepEqual(
      [decision('none', 'execute'), decision('scopes', 'reject'), decision('quiet_hours', 'defer'), decision('evidence', 'await_approval')],
      [4, 1, 1, 1],
    );
    assert.equal(s.samples.filter((x) => x.name === 'guardrail_decisions_total').length, 4);
  });

  it('outbox_processed_per_minute counts the last 60 s only', async () => {
    let now = NOW_MS;
    const m = new OutboxMetrics({ now: () => now });
    const ok = completion({ to: 'success', transition: 'succeed', attempted: true, latency_ms: 1 });
    m.observe({ tenant_id: TENANT }, ok);
    m.observe({ tenant_id: TENANT }, ok);
    now += 30_000;
    m.observe({ tenant_id: TENANT }, ok);
    assert.equal(sampleValue(await scrape(m), 'outbox_processed_per_minute'), 3);
    now += 30_000; // the first two are now 60 s old: out of the window
    assert.equal(sampleValue(await scrape(m), 'outbox_processed_per_minute'), 1);
    now += 60_000;
    assert.equal(sampleValue(await scrape(m), 'outbox_processed_per_minute'), 0);
    assert.equal(sampleValue(await scrape(m), 'outbox_processed_total', { tenant: TENANT, status: 'success' }), 3, 'the counter keeps counting');
  });

  it('a DLQ reader that fails drops the gauge\'s series and reports, and the scrape still answers', async () => {
    const errors: unknown[] = [];
    let fail = false;
    const m = new OutboxMetrics({
      dlqSizeByTenant: () => (fail ? Promise.reject(new Error('db down')) : Promise.resolve([{ tenant_id: TENANT, size: 4 }])),
      onCollectError: (e) => errors.push(e),
    });
    assert.equal(sampleValue(await scrape(m), 'outbox_dlq_size', { tenant: TENANT }), 4);
    fail = true;
    const s = await scrape(m);
    assert.equal(sampleValue(s, 'outbox_dlq_size', { tenant: TENANT }), undefined);
    assert.equal(sampleValue(s, 'outbox_processed_per_minute'), 0);
    assert.match(String(errors[0]), /db down/);
  });

  it('each instance has a registry of its own; prom-client\'s global one stays empty', async () => {
    const a = new OutboxMetrics();
    const b = new OutboxMetrics();
    a.observe({ tenant_id: TENANT }, completion({ to: 'success', transition: 'succeed', attempted: true, latency_ms: 1 }));
    assert.equal(sampleValue(await scrape(a), 'outbox_attempts_total', { tenant: TENANT }), 1);
    assert.equal(sampleValue(await scrape(b), 'outbox_attempts_total', { tenant: TENANT }), undefined);
    assert.equal(globalRegistry.getSingleMetric('outbox_processed_total'), undefined);
  });
});

forEachBackend('Outbox telemetry', (ctx) => {
  const pingDatabase = () => ctx().db.asService(async (tx) => {
    await tx.query('select 1');
  });

  /** A tenant whose guardrails let a trusted envelope through (as in the worker test). */
  async function tenant(id: string): Promise<void> {
    await new SqlTenantService(ctx().service()).create({ id, name: `M ${id.slice(-4)}`, concurrency_limit: 10 });
    await new SqlGuardrailService(ctx().service()).upsert({ tenant_id: id, trust_threshold: 0.5, require_evidence: false });
    await new SqlCatalogService(ctx().service()).upsert({ tenant_id: id, tool_slug: TOOL, risk: 'medium', required_scopes: [SCOPE] });
    await new SqlConnectedAccountService(ctx().service()).create({ tenant_id: id, provider: 'slack', status: 'active', scopes: [SCOPE], metadata: { composio_id: `ca-${id}` } });
  }

  async function enqueue(tenant_id: string, extra: Partial<EnqueueInput> = {}): Promise<string> {
    const e = await new SqlOutboxService(ctx().service()).enqueue({
      tenant_id, tool_slug: TOOL, arguments: { channel: '#ops', text: 'hi' }, connected_account_id: `ca-${tenant_id}`,
      trust_context: { score: 0.9 }, next_run_at: new Date(T0.getTime() - 1000), ...extra,
    });
    return e.id;
  }

  async function get(server: HealthServer, path: string): Promise<{ status: number; type: string | null; body: string }> {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  }

  it('a known run: a /metrics scrape shows each seed metric with its exact value', async () => {
    await tenant(TENANT);
    const ids = {
      ok: [await enqueue(TENANT), await enqueue(TENANT), await enqueue(TENANT)],
      retry: await enqueue(TENANT),
      permanent: await enqueue(TENANT),
      conflict: await enqueue(TENANT),
      untrusted: await enqueue(TENANT, { trust_context: { score: 0.1 } }), // → awaiting_approval
      noAccount: await enqueue(TENANT, { connected_account_id: 'ca-unknown' }), // → rejected (scopes)
    };
    // Every execution takes ≥ 20 ms, so the histogram shows the unit is seconds.
    const executor = new ScriptedExecutor(async (e) => {
      await sleep(20);
      if (e.id === ids.retry) throw new ExecutionError('retryable', 'HTTP 503', { status: 503 });
      if (e.id === ids.permanent) throw new ExecutionError('permanent', 'HTTP 400', { status: 400 });
      if (e.id === ids.conflict) throw new ExecutionError('conflict', 'HTTP 409', { status: 409 });
      return { ok: true };
    });
    const metrics = new OutboxMetrics({ dlqSizeByTenant: () => new SqlOutboxOperations(ctx().service()).dlqSizeByTenant(), now: () => NOW_MS });
    const worker = new OutboxWorker(ctx().db, executor, {
      workerId: 'metrics-worker', clock: () => T0, random: () => 0.5, batchSize: 50,
      onCompleted: (envelope, c, applied) => metrics.observe(envelope, c, applied),
    });
    metrics.track(worker);
    assert.deepEqual(await worker.runOnce(), { claimed: 8, completed: 8 });

    const server = await startHealthServer(createHealthHandlers({ metrics, isAlive: () => worker.isAlive, pingDatabase }), { port: 0 });
    let res;
    try {
      res = await get(server, '/metrics');
    } finally {
      await server.close();
    }
    assert.equal(res.status, 200);
    assert.equal(res.type, 'text/plain; version=0.0.4; charset=utf-8');
    const s = parsePrometheus(res.body);
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(s, name, labels);

    // outbox_processed_total{tenant,status}: 3 successes, 1 retry, 3 failed (DLQ, conflict, reject).
    assert.deepEqual(
      ['success', 'retry', 'failed'].map((status) => v('outbox_processed_total', { tenant: TENANT, status })),
      [3, 1, 3],
    );
    assert.equal(s.samples.filter((x) => x.name === 'outbox_processed_total').length, 3, 'no other status or tenant');
    assert.equal(v('outbox_retry_total', { tenant: TENANT }), 1);
    assert.equal(v('outbox_attempts_total', { tenant: TENANT }), 6);
    assert.equal(v('outbox_conflicts_total', { tenant: TENANT }), 1);
    assert.equal(v('outbox_dlq_size', { tenant: TENANT }), 1);
    assert.equal(v('outbox_processed_per_minute'), 7);
    assert.equal(v('outbox_running', { worker: 'metrics-worker' }), 0);
    // outbox_processing_duration_seconds: the 6 executions, each sleeping 20 ms (a timer may
    // fire a little early, hence the 15 ms floor) and well under 5 s.
    const bucket = (le: string) => v('outbox_processing_duration_seconds_bucket', { le });
    assert.deepEqual([bucket('0.001'), bucket('0.01'), bucket('5'), bucket('60'), bucket('+Inf')], [0, 0, 6, 6, 6]);
    assert.equal(v('outbox_processing_duration_seconds_count'), 6);
    const sum = v('outbox_processing_duration_seconds_sum')!;
    assert.ok(sum >= 6 * 0.015 && sum < 6 * 5, `sum ${sum}`);
    // guardrail_decisions_total{guardrail,decision}
    assert.equal(v('guardrail_decisions_total', { guardrail: 'none', decision: 'execute' }), 6);
    assert.equal(v('guardrail_decisions_total', { guardrail: 'trust', decision: 'await_approval' }), 1);
    assert.equal(v('guardrail_decisions_total', { guardrail: 'scopes', decision: 'reject' }), 1);
    assert.equal(s.samples.filter((x) => x.name === 'guardrail_decisions_total').length, 3);
    assert.deepEqual(Object.fromEntries(s.types), {
      outbox_processed_total: 'counter', outbox_processing_duration_seconds: 'histogram', outbox_retry_total: 'counter',
      outbox_attempts_total: 'counter', outbox_conflicts_total: 'counter', guardrail_decisions_total: 'counter',
      outbox_processed_per_minute: 'gauge', outbox_dlq_size: 'gauge', outbox_running: 'gauge',
    });

    // The scrape agrees with the database.
    const stats = await new SqlOutboxOperations(ctx().service()).stats(TENANT);
    assert.deepEqual([stats.by_status.success, stats.by_status.pending, stats.by_status.conflict, stats.by_status.rejected, stats.by_status.awaiting_approval, stats.dlq], [3, 1, 1, 1, 1, 1]);
  });

  it('/healthz: 503 before the loop starts, 200 while it runs, 503 after stop; outbox_running follows', async () => {
    const t = '30000000-0000-4000-8000-000000000002';
    await tenant(t);
    const id = await enqueue(t, { next_run_at: new Date(Date.now() - 1000) });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Holds this test's envelope until released; anything else due (the known run's retry) just succeeds.
    const executor = new ScriptedExecutor(async (e) => {
      if (e.id === id) await released;
      return { ok: true };
    });
    const metrics = new OutboxMetrics();
    const live = new OutboxWorker(ctx().db, executor, { workerId: 'live-worker', pollIntervalMs: 100, onCompleted: (e, c, a) => metrics.observe(e, c, a) });
    metrics.track(live);
    const server = await startHealthServer(createHealthHandlers({ metrics, isAlive: () => live.isAlive, pingDatabase }), { port: 0 });
    try {
      const before = await get(server, '/healthz');
      assert.deepEqual([before.status, JSON.parse(before.body)], [503, { status: 'unavailable', worker: 'stopped', database: 'ok' }]);
      live.start();
      try {
        const deadline = Date.now() + 15_000;
        while (!(executor.calls.some((c) => c.id === id) && live.runningCount === 1) && Date.now() < deadline) await sleep(20);
        const running = await get(server, '/healthz');
        assert.deepEqual([running.status, running.type, running.body], [200, 'application/json', '{"status":"ok","worker":"running","database":"ok"}']);
        assert.equal(sampleValue(parsePrometheus((await get(server, '/metrics')).body), 'outbox_running', { worker: 'live-worker' }), 1);
      } finally {
        release();
        await live.stop();
      }
      const after = await get(server, '/healthz');
      assert.deepEqual([after.status, JSON.parse(after.body)], [503, { status: 'unavailable', worker: 'stopped', database: 'ok' }]);
      const s = parsePrometheus((await get(server, '/metrics')).body);
      assert.equal(sampleValue(s, 'outbox_running', { worker: 'live-worker' }), 0);
      assert.equal(sampleValue(s, 'outbox_processed_total', { tenant: t, status: 'success' }), 1);
      for (const path of ['/', '/health', '/metrics/x']) assert.equal((await get(server, path)).status, 404, path);
    } finally {
      await server.close();
    }
  });
});
