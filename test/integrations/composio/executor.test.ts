import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_RETRY_POLICIES } from '../../../src/domain/retry-policy.ts';
import { logOutcome } from '../../../src/observability/outbox-log.ts';
import { SqlCatalogService } from '../../../src/services/catalog-service.ts';
import { ComposioExecutor } from '../../../src/worker/executors/composio-executor.ts';
import { OutboxWorker, type OutboxWorkerOptions } from '../../../src/worker/outbox-worker.ts';
import { V1, V2 } from '../../fakes/composio/index.ts';
import { captureLogger } from '../../observability/capture.ts';
import { forEachBackend } from '../../support/backends.ts';
import { useFakeComposio } from './support.ts';
import { composioTenant, enqueueEnvelope, envelopeAudit, envelopeRow, executeCalls, T0, type CatalogTool } from './worker-fixture.ts';

// The Composio executor under the real worker, against the fake over HTTP, on each
// engine: envelopes enqueued → claimed → executed at the fake → outcome recorded and
// audited. Accounts that cannot act are in executor-accounts.test.ts.

const SEND = 'GMAIL_SEND_EMAIL';
const EMAIL = { recipient_email: 'jane@example.com', subject: 'Renewal', body: 'Shall we talk on Monday?' };
const HOUR = 3_600_000;

forEachBackend('ComposioExecutor', (ctx) => {
  const composio = useFakeComposio();
  const gmail = (tools: CatalogTool[] = [{ slug: SEND, version: V1 }]) => composioTenant(ctx(), composio.fake, composio.client, { toolkit: 'gmail', tools });
  const executor = (client = composio.client) => new ComposioExecutor({ db: ctx().db, client });
  const worker = (exec: ComposioExecutor, options: OutboxWorkerOptions = {}) =>
    new OutboxWorker(ctx().db, exec, { workerId: 'composio-test', clock: () => T0, random: () => 0.5, batchSize: 50, ...options });
  const transitions = async (id: string) => (await envelopeAudit(ctx(), id)).map((p) => p.transition);

  it('runs an envelope end to end: the pinned version, the tenant as user, the external_id as key; data stored and audited', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    assert.deepEqual(await worker(executor()).runOnce(), { claimed: 1, completed: 1 });

    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts, r.last_error], ['success', 1, null]);
    assert.deepEqual(r.result, { id: 'msg_1', threadId: 'thread_1', labelIds: ['SENT'] });
    const [run] = composio.fake.executions;
    assert.deepEqual(
      [run?.tool, run?.version, run?.connectedAccountId, run?.userId, run?.idempotencyKey, run?.arguments],
      [SEND, V1, t.composioId, t.id, e.external_id, EMAIL],
    );
    assert.deepEqual(await transitions(e.id), ['enqueue', 'claim', 'succeed']);
  });

  it("pins the current catalog entry's version, not Composio's latest; a newer entry becomes the one used", async () => {
    composio.fake.setCatalogVersion(2); // gmail's latest is now V2, whose schema renamed recipient_email to `to`
    const t = await gmail();
    const old = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker(executor()).runOnce();
    assert.equal((await envelopeRow(ctx(), old.id)).status, 'success');
    assert.equal(composio.fake.executions[0]?.version, V1);

    const v2 = await composio.client.getTool(SEND, { version: V2 });
    await new SqlCatalogService(ctx().service()).upsert({ tenant_id: t.id, tool_slug: SEND, version: V2, schema: v2.input_parameters, required_scopes: v2.scopes });
    const stale = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    const fresh = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: { to: 'jane@example.com', body: 'Hello' } });
    await worker(executor()).runOnce();
    assert.match((await envelopeRow(ctx(), stale.id)).last_error ?? '', new RegExp(`schema of ${SEND}@${V2}: arguments\\.to is required`));
    assert.equal((await envelopeRow(ctx(), fresh.id)).status, 'success');
    assert.deepEqual(composio.fake.executions.map((x) => x.version), [V1, V2]);
  });

  it('arguments that violate the schema are dead-lettered before any HTTP call, each failing path named', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: { subject: 'no recipient', body: 7, cc: 'x@example.com' } });
    await worker(executor()).runOnce();
    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['dlq', 1]);
    assert.match(r.last_error ?? '', /arguments\.recipient_email is required/);
    assert.match(r.last_error ?? '', /arguments\.body must be string/);
    assert.match(r.last_error ?? '', /arguments\.cc must be array/);
    assert.equal(executeCalls(composio.fake), 0, 'the fake received no execute call');
    assert.deepEqual(await transitions(e.id), ['enqueue', 'claim', 'dead_letter']);
  });

  it('compiles each (tenant, tool, version) schema once and reuses it', async () => {
    const [a, b] = [await gmail(), await gmail()];
    for (let i = 0; i < 3; i++) await enqueueEnvelope(ctx(), a, { tool_slug: SEND, arguments: EMAIL });
    await enqueueEnvelope(ctx(), b, { tool_slug: SEND, arguments: EMAIL });
    const exec = executor();
    await worker(exec).runOnce();
    await enqueueEnvelope(ctx(), a, { tool_slug: SEND, arguments: { body: 'invalid: no recipient' } });
    await worker(exec).runOnce();
    assert.equal(composio.fake.executions.length, 4);
    assert.equal(exec.validator.compiled, 2);
  });

  it('a tool missing from the catalog, or a version Composio does not have, is permanent', async () => {
    const t = await gmail();
    await new SqlCatalogService(ctx().service()).upsert({ tenant_id: t.id, tool_slug: 'GMAIL_FETCH_EMAILS', version: '20990101_00' });
    const missing = await enqueueEnvelope(ctx(), t, { tool_slug: 'GMAIL_CREATE_EMAIL_DRAFT', arguments: {} });
    const unknownVersion = await enqueueEnvelope(ctx(), t, { tool_slug: 'GMAIL_FETCH_EMAILS', arguments: {} });
    await worker(executor()).runOnce();
    assert.match((await envelopeRow(ctx(), missing.id)).last_error ?? '', /GMAIL_CREATE_EMAIL_DRAFT is not in the tenant's catalog/);
    const r = await envelopeRow(ctx(), unknownVersion.id);
    assert.equal(r.status, 'dlq');
    assert.match(r.last_error ?? '', /HTTP 404 Version 20990101_00 of tool GMAIL_FETCH_EMAILS not found/);
    assert.equal(executeCalls(composio.fake, { tool: 'GMAIL_CREATE_EMAIL_DRAFT' }), 0);
  });

  it('a tool the catalog sync marked removed is not called: permanent, with the reason', async () => {
    const t = await gmail();
    await ctx().db.asService((tx) => tx.query(`update tool_catalog set removed_at = now() where tenant_id = $1 and tool_slug = $2`, [t.id, SEND]));
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker(executor()).runOnce();
    const r = await envelopeRow(ctx(), e.id);
    assert.equal(r.status, 'dlq');
    assert.match(r.last_error ?? '', new RegExp(`tool ${SEND} was removed from Composio's catalog`));
    assert.equal(executeCalls(composio.fake, { key: e.external_id }), 0);
  });

  it("a 5xx retries with the tier's backoff and then succeeds", async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL, risk: 'medium' });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '5xx', status: 503 } });
    await worker(executor()).runOnce();
    let r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['pending', 1]);
    assert.match(r.last_error ?? '', /HTTP 503 Service temporarily unavailable/);
    assert.equal(r.next_run_at!.getTime() - T0.getTime(), Math.floor(0.5 * DEFAULT_RETRY_POLICIES.medium.baseDelayMs));

    await worker(executor(), { clock: () => new Date(T0.getTime() + HOUR) }).runOnce();
    r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['success', 2]);
    assert.deepEqual(await transitions(e.id), ['enqueue', 'claim', 'retry', 'claim', 'succeed']);
  });

  it('a 429 with Retry-After sets next_run_at to exactly that far (it wins over the backoff)', async () => {
    const t = await gmail();
    const seconds = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    const millis = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '429', retryAfterSeconds: 7 } });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '429', retryAfterMs: 45_250, body: 'envelope' } });
    await worker(executor(), { concurrency: 1 }).runOnce();
    const delays = await Promise.all([seconds, millis].map(async (e) => (await envelopeRow(ctx(), e.id)).next_run_at!.getTime() - T0.getTime()));
    assert.deepEqual(delays.sort((x, y) => x - y), [7000, 45_250]);
    assert.equal(composio.fake.executions.length, 0);
  });

  it('a persistent 5xx uses no more attempts than the tier allows, then dead-letters', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL, risk: 'high' });
    composio.fake.inject({ tool: SEND, fault: { type: '5xx', status: 502, body: 'html' } });
    for (let i = 0; i < 4; i++) await worker(executor(), { clock: () => new Date(T0.getTime() + i * HOUR) }).runOnce();
    const max = DEFAULT_RETRY_POLICIES.high.maxAttempts;
    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['dlq', max]);
    assert.match(r.last_error ?? '', new RegExp(`HTTP 502 .*\\(attempts exhausted: ${max} of ${max}\\)`));
    assert.equal(executeCalls(composio.fake, { key: e.external_id }), max);
    assert.deepEqual(await transitions(e.id), ['enqueue', 'claim', 'retry', 'claim', 'dead_letter']);
  });

  it('timeouts are retryable: the worker aborting a hung call, and the client deadline; a lost answer may repeat the effect under the same key', async () => {
    const t = await gmail();
    const hung = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL, risk: 'low' });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: 'hang', applyEffect: true } });
    await worker(executor(), { executionTimeoutMs: 300 }).runOnce();
    let r = await envelopeRow(ctx(), hung.id);
    assert.deepEqual([r.status, r.attempts], ['pending', 1]);
    assert.match(r.last_error ?? '', /aborted/);
    await worker(executor(), { clock: () => new Date(T0.getTime() + HOUR) }).runOnce();
    assert.equal((await envelopeRow(ctx(), hung.id)).status, 'success');
    // At least once: the fake acted twice, both times under the envelope's external_id.
    assert.deepEqual(composio.fake.executions.map((x) => x.idempotencyKey), [hung.external_id, hung.external_id]);

    const slow = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL, risk: 'low' });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: 'slow', delayMs: 2000 } });
    await worker(executor(composio.clientWith({ timeoutMs: 200 }))).runOnce();
    r = await envelopeRow(ctx(), slow.id);
    assert.deepEqual([r.status, r.attempts], ['pending', 1]);
    assert.match(r.last_error ?? '', /no answer within 200 ms/);
  });

  it('a reset connection is retryable', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: 'reset' } });
    await worker(executor()).runOnce();
    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['pending', 1]);
  });

  it('a 409 ends as conflict: terminal, no retry, no DLQ', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '409' } });
    await worker(executor()).runOnce();
    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['conflict', 1]);
    assert.match(r.last_error ?? '', /HTTP 409/);
    assert.deepEqual(await transitions(e.id), ['enqueue', 'claim', 'conflict']);
  });

  it("a 4xx is permanent, and so is a tool that ran and failed upstream (200, successful: false), with the provider's message", async () => {
    const t = await composioTenant(ctx(), composio.fake, composio.client, { toolkit: 'slack', tools: [{ slug: 'SLACK_SEND_MESSAGE', version: V1 }] });
    const upstream = await enqueueEnvelope(ctx(), t, { tool_slug: 'SLACK_SEND_MESSAGE', arguments: { channel: '#does-not-exist', text: 'hi' } });
    const refused = await enqueueEnvelope(ctx(), t, { tool_slug: 'SLACK_SEND_MESSAGE', arguments: { channel: '#ops', text: 'hi' } });
    composio.fake.inject({ tool: 'SLACK_SEND_MESSAGE', skip: 1, times: 1, fault: { type: '400', message: 'Invalid channel format' } });
    await worker(executor(), { concurrency: 1 }).runOnce();
    const u = await envelopeRow(ctx(), upstream.id);
    assert.deepEqual([u.status, u.last_error], ['dlq', 'Composio ran SLACK_SEND_MESSAGE and it failed: channel_not_found']);
    const f = await envelopeRow(ctx(), refused.id);
    assert.equal(f.status, 'dlq');
    assert.match(f.last_error ?? '', /HTTP 400 Invalid channel format/);
  });

  it('the API key appears in no error message, audit payload, result or log line', async () => {
    const key = composio.fake.apiKey;
    const t = await gmail();
    const logs = captureLogger('debug');
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL })).id);
    // A provider that echoes the key back, a refused key, a rate limit, and a success.
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '400', message: `Malformed request (x-api-key: ${key})` } });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '401' } });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '429', retryAfterSeconds: 1, message: `slow down ${key}` } });
    const w = worker(executor(), { concurrency: 1, onCompleted: (envelope, completion, applied) => logOutcome(logs.logger, envelope, completion, applied) });
    await w.runOnce();

    const rows = await Promise.all(ids.map((id) => envelopeRow(ctx(), id)));
    assert.deepEqual(rows.map((r) => r.status).sort(), ['dlq', 'dlq', 'pending', 'success']);
    const errors = rows.map((r) => r.last_error ?? '').join('\n');
    assert.match(errors, /\[redacted\]/, 'the echoed key was replaced');
    assert.match(errors, /Composio refused Steward's API key; fix COMPOSIO_API_KEY/);
    const audit = await ctx().db.asService(async (tx) => (await tx.query<{ payload: unknown }>('select payload from audit_log where tenant_id = $1', [t.id])).rows);
    assert.ok(audit.length > 0 && logs.lines.length === ids.length);
    for (const [what, text] of [['errors', errors], ['results', JSON.stringify(rows.map((r) => r.result))], ['audit', JSON.stringify(audit)], ['logs', logs.lines.join('\n')]] as const) {
      assert.ok(!text.includes(key), `the key leaked into ${what}`);
    }
  });
});
