import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTelemetry, logError } from '../../src/cli/telemetry.ts';
import { createCliWorker } from '../../src/cli/worker-output.ts';
import { loadConfig } from '../../src/config.ts';
import type { Completion } from '../../src/domain/envelope-outcome.ts';
import { redactSecrets } from '../../src/observability/logger.ts';
import { logOutcome, outcomeLevel, outcomeRecord } from '../../src/observability/outbox-log.ts';
import type { OutboxEnvelope } from '../../src/services/outbox-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { parsePrometheus, sampleValue } from '../support/prometheus.ts';
import { captureLogger } from './capture.ts';
import { createTenant, enqueue, T0, TOOL } from './fixtures.ts';

// Structured logs: the logger's format and redaction, the record of each outcome, and
// the CLI's worker logging every outcome of a known run with its tenant and envelope.

const TENANT = '50000000-0000-4000-8000-000000000001';
const ENVELOPE = '50000000-0000-4000-8000-0000000000e1';
const envelope = { id: ENVELOPE, tenant_id: TENANT, tool_slug: TOOL, status: 'in_progress', attempts: 1 } as OutboxEnvelope;
const completion = (c: Partial<Completion> & Pick<Completion, 'to' | 'transition' | 'attempted'>): Completion => ({ id: ENVELOPE, ...c });

describe('the logger', () => {
  it('writes one JSON object per line, with level names, ISO time and the level asked for', () => {
    const { logger, lines, records } = captureLogger('warn');
    logger.info('not at warn');
    logger.warn({ tenant_id: TENANT }, 'careful');
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const [r] = records();
    assert.equal(r!.level, 'warn');
    assert.equal(r!.msg, 'careful');
    assert.equal(r!.tenant_id, TENANT);
    assert.equal(r!.name, 'steward');
    assert.match(String(r!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('never writes a URL\'s password, in a message, an error\'s stack or its cause, or under a secret key', () => {
    const { logger, lines } = captureLogger();
    const url = 'postgresql://steward:hunter2@db.internal:5432/steward';
    const cause = new Error(`connect failed: ${url}`);
    logger.error({ err: new Error(`cannot open ${url}`, { cause }), password: 'hunter2', config: { connectionString: url } }, `opening ${url}`);
    const text = lines.join('');
    assert.doesNotMatch(text, /hunter2/);
    assert.match(text, /postgresql:\/\/steward:\[redacted\]@db\.internal:5432\/steward/, 'where it went stays readable');
    assert.equal(redactSecrets('https://u:p%40ss@h/x and http://h:80/y'), 'https://u:[redacted]@h/x and http://h:80/y');
    assert.equal(redactSecrets('GET https://api.example/v1?channel=ops&api_key=abc123&X-Amz-Signature=f00#x failed'), 'GET https://api.example/v1?channel=ops&api_key=[redacted]&X-Amz-Signature=[redacted]#x failed');
  });

  it('logError: a background failure as an error record naming its source', () => {
    const { logger, records } = captureLogger();
    logError(logger, 'worker')(new Error('connection terminated unexpectedly'));
    const [r] = records();
    assert.equal(r!.level, 'error');
    assert.equal(r!.source, 'worker');
    assert.equal(r!.msg, 'worker: connection terminated unexpectedly');
    assert.equal((r!.err as { message: string }).message, 'connection terminated unexpectedly');
    assert.match((r!.err as { stack: string }).stack, /^Error: connection terminated/);
  });

  it('STEWARD_LOG_LEVEL sets the level; default info; anything else is a config error', () => {
    assert.equal(loadConfig({}).logLevel, 'info');
    assert.equal(loadConfig({ STEWARD_LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.throws(() => loadConfig({ STEWARD_LOG_LEVEL: 'loud' }), { code: 'config_invalid', field: 'STEWARD_LOG_LEVEL' });
  });
});

describe('outcome records', () => {
  it('carry tenant, envelope, tool, transition, from/to, attempt, latency and error', () => {
    assert.deepEqual(outcomeRecord(envelope, completion({ to: 'pending', transition: 'retry', attempted: true, latency_ms: 12.5, error: 'HTTP 503', next_run_at: '2026-06-01T12:00:05.000Z' })), {
      tenant_id: TENANT, envelope_id: ENVELOPE, tool_slug: TOOL, transition: 'retry', from: 'in_progress', to: 'pending',
      attempt: 2, latency_ms: 12.5, error: 'HTTP 503', next_run_at: '2026-06-01T12:00:05.000Z',
    });
    // A guardrail hold did not run: the attempt count stands, and the guardrail is named.
    assert.deepEqual(outcomeRecord(envelope, completion({ to: 'awaiting_approval', transition: 'await_approval', attempted: false, decision: { guardrail: 'trust', reason: 'low' } })), {
      tenant_id: TENANT, envelope_id: ENVELOPE, tool_slug: TOOL, transition: 'await_approval', from: 'in_progress', to: 'awaiting_approval', attempt: 1, guardrail: 'trust',
    });
  });

  it('levels: dead letter error; retry, conflict and reject warn; the rest info', () => {
    const levels = (['dead_letter', 'retry', 'conflict', 'reject', 'succeed', 'defer', 'await_approval'] as const).map((transition) => outcomeLevel({ transition }));
    assert.deepEqual(levels, ['error', 'warn', 'warn', 'warn', 'info', 'info', 'info']);
  });

  it('an outcome the database refused (lease lost) is a warning saying so', () => {
    const { logger, records } = captureLogger();
    logOutcome(logger, envelope, completion({ to: 'success', transition: 'succeed', attempted: true, latency_ms: 1 }), { applied: false, status: 'pending' });
    const [r] = records();
    assert.deepEqual([r!.level, r!.msg, r!.applied, r!.status, r!.envelope_id], ['warn', 'outbox outcome refused: lease lost', false, 'pending', ENVELOPE]);
  });
});

forEachBackend('The CLI worker\'s logs', (ctx) => {
  it('a known run: one record per outcome, each with tenant_id, envelope_id and the worker', async () => {
    await createTenant(ctx(), TENANT);
    const ids = {
      ok: await enqueue(ctx(), TENANT),
      noChannel: await enqueue(ctx(), TENANT, { arguments: { text: 'no channel' } }), // the sandbox: permanent 400 → DLQ
      untrusted: await enqueue(ctx(), TENANT, { trust_context: { score: 0.1 } }), // → awaiting_approval
      noAccount: await enqueue(ctx(), TENANT, { connected_account_id: 'ca-unknown' }), // → rejected (scopes)
    };
    const { logger, records } = captureLogger();
    const telemetry = createTelemetry(ctx().db, loadConfig({}), { logger });
    const worker = createCliWorker(ctx().db, telemetry, { workerId: 'log-worker', clock: () => T0, batchSize: 50 });
    assert.deepEqual(await worker.runOnce(), { claimed: 4, completed: 4 });
    await telemetry.close();

    const byEnvelope = new Map(records().map((r) => [r.envelope_id, r]));
    assert.equal(byEnvelope.size, 4);
    for (const r of byEnvelope.values()) {
      assert.equal(r.tenant_id, TENANT);
      assert.equal(r.worker_id, 'log-worker');
      assert.equal(r.tool_slug, TOOL);
      assert.equal(r.from, 'in_progress');
      assert.equal(r.msg, 'outbox outcome');
    }
    const pick = (id: string, ...keys: string[]) => keys.map((k) => byEnvelope.get(id)?.[k]);
    assert.deepEqual(pick(ids.ok, 'level', 'transition', 'to', 'attempt'), ['info', 'succeed', 'success', 1]);
    assert.equal(typeof byEnvelope.get(ids.ok)?.latency_ms, 'number');
    assert.deepEqual(pick(ids.noChannel, 'level', 'transition', 'to', 'attempt', 'error'), ['error', 'dead_letter', 'dlq', 1, 'argument channel is required (a non-empty string)']);
    assert.deepEqual(pick(ids.untrusted, 'level', 'transition', 'to', 'attempt', 'guardrail', 'latency_ms'), ['info', 'await_approval', 'awaiting_approval', 0, 'trust', undefined]);
    assert.deepEqual(pick(ids.noAccount, 'level', 'transition', 'to', 'guardrail'), ['warn', 'reject', 'rejected', 'scopes']);
    // Never the tenant's data: no arguments, no result.
    for (const r of byEnvelope.values()) assert.deepEqual([r.arguments, r.result], [undefined, undefined]);
    // The same outcomes were counted.
    const s = parsePrometheus(await telemetry.metrics.metrics());
    assert.deepEqual(['success', 'failed'].map((status) => sampleValue(s, 'outbox_processed_total', { tenant: TENANT, status })), [1, 2]);
  });
});
