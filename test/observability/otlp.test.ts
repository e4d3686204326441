import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type OtlpConfig } from '../../src/config.ts';
import { startOtlpMetrics, type OtlpMetrics } from '../../src/observability/otlp.ts';
import { SqlOutboxOperations } from '../../src/services/outbox-operations.ts';
import { ExecutionError } from '../../src/worker/executor.ts';
import { DURATION_BUCKETS, OutboxMetrics } from '../../src/worker/outbox-metrics.ts';
import { OutboxWorker } from '../../src/worker/outbox-worker.ts';
import { forEachBackend } from '../support/backends.ts';
import { parsePrometheus, type Scrape } from '../support/prometheus.ts';
import { ScriptedExecutor, sleep } from '../support/scripted-executor.ts';
import { captureLogger } from './capture.ts';
import { createTenant, enqueue, T0 } from './fixtures.ts';
import { pointOf, startCollector, valueOf, type FakeCollector, type OtlpExport } from './otlp-collector.ts';

// OTLP/HTTP export through the OTel SDK to a local stand-in collector: the same metrics,
// names, labels and values as /metrics, pushed periodically and once more on shutdown.

const TENANT = '60000000-0000-4000-8000-000000000001';
const NOW_MS = 1_780_000_000_000;

const otlpConfig = (collector: FakeCollector, intervalMs = 100): OtlpConfig => ({ metricsUrl: `${collector.url}/v1/metrics`, exportIntervalMs: intervalMs, exportTimeoutMs: intervalMs });

describe('OTLP configuration', () => {
  it('off unless an endpoint is set; the metrics URL as the exporter resolves it; the spec\'s defaults', () => {
    assert.equal(loadConfig({}).otlp, undefined);
    assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlp, { metricsUrl: 'http://collector:4318/v1/metrics', exportIntervalMs: 60_000, exportTimeoutMs: 30_000 });
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example/base/' }).otlp?.metricsUrl, 'https://otlp.example/base/v1/metrics');
    // The per-signal endpoint is taken verbatim and wins.
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://b:9000/custom' }).otlp?.metricsUrl, 'http://b:9000/custom');
    assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://b/m', OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '1000' }).otlp, { metricsUrl: 'http://b/m', exportIntervalMs: 5000, exportTimeoutMs: 1000 });
  });

  it('the standard off switches; OTEL_* errors matter only when export is on', () => {
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).otlp, undefined);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none' }).otlp, undefined);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRIC_EXPORT_INTERVAL: 'soon' }).otlp, undefined);
    assert.ok(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).otlp);
    const invalid = (env: Record<string, string>, field: string, message: RegExp) => assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env }), (e: Error & { code?: string; field?: string }) => {
      assert.deepEqual([e.code, e.field], ['config_invalid', field]);
      assert.match(e.message, message);
      return true;
    });
    invalid({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL', /over HTTP \(JSON\).*port 4318/);
    invalid({ OTEL_METRIC_EXPORT_INTERVAL: '0' }, 'OTEL_METRIC_EXPORT_INTERVAL', /./);
    invalid({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', /http:\/\/ or https:\/\//);
  });
});

describe('OTLP export without a database', () => {
  let collector: FakeCollector;
  before(async () => {
    collector = await startCollector();
  });
  after(async () => {
    await collector.close();
  });

  it('the DLQ gauge exports what the last read returned: a tenant gone or a failed read leaves no stale series', async () => {
    const errors: unknown[] = [];
    let sizes: { tenant_id: string; size: number }[] | Error = [{ tenant_id: 'a', size: 4 }, { tenant_id: 'b', size: 2 }];
    const { logger } = captureLogger();
    const otlp = startOtlpMetrics(otlpConfig(collector, 100), logger);
    try {
      new OutboxMetrics({
        meter: otlp.meter,
        dlqSizeByTenant: () => (sizes instanceof Error ? Promise.reject(sizes) : Promise.resolve(sizes)),
        onCollectError: (e) => errors.push(e),
      });
      const dlq = (e: OtlpExport, tenant: string) => valueOf(e, 'outbox_dlq_size', { tenant });
      // An export received from now on (each step changes what the next reads return).
      const next = (test: (e: OtlpExport) => boolean) => {
        const seen = collector.exports.length;
        return collector.waitFor((e) => collector.exports.indexOf(e) >= seen && test(e));
      };
      await next((e) => dlq(e, 'a') === 4 && dlq(e, 'b') === 2);
      sizes = [{ tenant_id: 'a', size: 0 }];
      await next((e) => dlq(e, 'a') === 0 && dlq(e, 'b') === undefined);
      sizes = new Error('db down');
      const failed = await next((e) => !e.points.some((p) => p.metric === 'outbox_dlq_size'));
      assert.equal(valueOf(failed, 'outbox_processed_per_minute'), 0, 'the rest of the export still goes');
      assert.match(String(errors[0]), /db down/);
    } finally {
      await otlp.shutdown();
    }
  });

  it('an export the collector refuses is logged as a structured error, the endpoint\'s password redacted', async () => {
    const refusing = await startCollector({ status: 400 });
    const { logger, lines, records } = captureLogger();
    const url = new URL(refusing.url);
    const otlp = startOtlpMetrics({ metricsUrl: `http://user:hunter2@${url.host}/v1/metrics`, exportIntervalMs: 60_000, exportTimeoutMs: 5_000 }, logger);
    try {
      new OutboxMetrics({ meter: otlp.meter });
      await otlp.shutdown(); // the final export, refused
      await otlp.shutdown(); // a second call is a no-op
    } finally {
      await refusing.close();
    }
    assert.equal(refusing.exports.length, 1);
    const failure = records().find((r) => r.component === 'otel' && r.level === 'error');
    assert.ok(failure, lines.join(''));
    assert.match(String(failure.msg), /export failed/);
    assert.doesNotMatch(lines.join(''), /hunter2/);
  });
});

forEachBackend('OTLP export of a worker run', (ctx) => {
  let collector: FakeCollector;
  let otlp: OtlpMetrics | undefined;
  before(async () => {
    collector = await startCollector();
  });
  after(async () => {
    await otlp?.shutdown();
    await collector.close();
  });

  it('a known run: the collector receives the seed metrics with the values /metrics shows', async () => {
    await createTenant(ctx(), TENANT);
    const ids = {
      ok: [await enqueue(ctx(), TENANT), await enqueue(ctx(), TENANT), await enqueue(ctx(), TENANT)],
      retry: await enqueue(ctx(), TENANT),
      permanent: await enqueue(ctx(), TENANT),
      conflict: await enqueue(ctx(), TENANT),
      untrusted: await enqueue(ctx(), TENANT, { trust_context: { score: 0.1 } }), // → awaiting_approval
      noAccount: await enqueue(ctx(), TENANT, { connected_account_id: 'ca-unknown' }), // → rejected (scopes)
    };
    const executor = new ScriptedExecutor(async (e) => {
      await sleep(20);
      if (e.id === ids.retry) throw new ExecutionError('retryable', 'HTTP 503', { status: 503 });
      if (e.id === ids.permanent) throw new ExecutionError('permanent', 'HTTP 400', { status: 400 });
      if (e.id === ids.conflict) throw new ExecutionError('conflict', 'HTTP 409', { status: 409 });
      return { ok: true };
    });
    const { logger, lines, records } = captureLogger();
    otlp = startOtlpMetrics(otlpConfig(collector, 500), logger);
    const operations = new SqlOutboxOperations(ctx().service());
    const metrics = new OutboxMetrics({ meter: otlp.meter, dlqSizeByTenant: () => operations.dlqSizeByTenant(), now: () => NOW_MS });
    const worker = new OutboxWorker(ctx().db, executor, {
      workerId: 'otlp-worker', clock: () => T0, random: () => 0.5, batchSize: 50,
      onCompleted: (envelope, c, applied) => metrics.observe(envelope, c, applied),
    });
    metrics.track(worker);
    assert.deepEqual(await worker.runOnce(), { claimed: 8, completed: 8 });

    // Pushed on the interval, without waiting for shutdown...
    const processed = (e: OtlpExport, status: string) => valueOf(e, 'outbox_processed_total', { tenant: TENANT, status });
    await collector.waitFor((e) => processed(e, 'success') === 3);
    // ...and once more by shutdown, with everything up to then (the last export).
    const before = collector.exports.length;
    await otlp.shutdown();
    assert.ok(collector.exports.length > before, 'shutdown exports');
    const last = collector.exports.at(-1)!;
    assert.equal(last.path, '/v1/metrics');
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(last.resource['service.name'], process.env.OTEL_SERVICE_NAME ?? 'steward');
    assert.match(String(last.resource['service.instance.id']), /^[0-9a-f-]{36}$/);

    const v = (name: string, labels: Record<string, string> = {}) => valueOf(last, name, labels);
    assert.deepEqual(['success', 'retry', 'failed'].map((status) => processed(last, status)), [3, 1, 3]);
    assert.equal(last.points.filter((p) => p.metric === 'outbox_processed_total').length, 3, 'no other status or tenant');
    assert.equal(v('outbox_retry_total', { tenant: TENANT }), 1);
    assert.equal(v('outbox_attempts_total', { tenant: TENANT }), 6);
    assert.equal(v('outbox_conflicts_total', { tenant: TENANT }), 1);
    assert.equal(v('outbox_dlq_size', { tenant: TENANT }), 1);
    assert.equal(v('outbox_processed_per_minute'), 7);
    assert.equal(v('outbox_running', { worker: 'otlp-worker' }), 0);
    assert.equal(v('guardrail_decisions_total', { guardrail: 'none', decision: 'execute' }), 6);
    assert.equal(v('guardrail_decisions_total', { guardrail: 'trust', decision: 'await_approval' }), 1);
    assert.equal(v('guardrail_decisions_total', { guardrail: 'scopes', decision: 'reject' }), 1);
    const duration = pointOf(last, 'outbox_processing_duration_seconds')!;
    assert.deepEqual([duration.kind, duration.unit, duration.count, duration.explicitBounds], ['histogram', 's', 6, DURATION_BUCKETS]);
    // Each execution sleeps 20 ms: seconds, not ms (a timer may fire a hair early as
    // performance.now measures it, hence 15 ms as the floor).
    assert.ok(duration.sum! >= 6 * 0.015 && duration.sum! < 6 * 5, `sum ${duration.sum}`);
    const kinds = Object.fromEntries(last.points.map((p) => [p.metric, p.kind === 'sum' ? (p.monotonic ? 'counter' : 'sum') : p.kind]));
    assert.deepEqual(kinds, {
      outbox_processed_total: 'counter', outbox_processing_duration_seconds: 'histogram', outbox_retry_total: 'counter',
      outbox_attempts_total: 'counter', outbox_conflicts_total: 'counter', guardrail_decisions_total: 'counter',
      outbox_processed_per_minute: 'gauge', outbox_dlq_size: 'gauge', outbox_running: 'gauge',
    });

    // Every series of the Prometheus scrape, with the same value (buckets: OTLP counts
    // each bucket, Prometheus counts cumulatively up to `le`).
    const scrape: Scrape = parsePrometheus(await metrics.metrics());
    for (const s of scrape.samples) {
      if (s.name.startsWith('outbox_processing_duration_seconds')) continue;
      assert.equal(v(s.name, s.labels), s.value, `${s.name} ${JSON.stringify(s.labels)}`);
    }
    const cumulative = duration.bucketCounts!.map((_, i) => duration.bucketCounts!.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const le = [...DURATION_BUCKETS.map(String), '+Inf'];
    assert.deepEqual(cumulative, le.map((b) => scrape.samples.find((s) => s.name === 'outbox_processing_duration_seconds_bucket' && s.labels.le === b)?.value));
    // No export failed, but one may have timed out on a loaded machine (the next carries
    // the same cumulative values, as the assertions above show).
    assert.deepEqual(records().filter((r) => !/timed out/.test(String(r.msg))), [], lines.join(''));
  });
});
