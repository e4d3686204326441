import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CATALOG_DRIFT_TOOL, CATALOG_REFRESH_TOOL, catalogSystemHandlers, createCatalogDriftHandler, createCatalogRefreshHandler, enqueueCatalogRefresh,
  type CatalogRefreshOptions,
} from '../../../src/integrations/composio/trickle-refresh.ts';
import { SqlGuardrailService } from '../../../src/services/guardrail-service.ts';
import type { OutboxEnvelope } from '../../../src/services/outbox-service.ts';
import { takeTokens, type TakeTokensInput } from '../../../src/services/token-bucket.ts';
import { ExecutionError, type ExecutionContext } from '../../../src/worker/executor.ts';
import { RoutingExecutor } from '../../../src/worker/executors/routing-executor.ts';
import { SandboxExecutor } from '../../../src/worker/executors/sandbox-executor.ts';
import { OutboxWorker } from '../../../src/worker/outbox-worker.ts';
import { forEachBackend } from '../../support/backends.ts';
import { rejectsWith } from '../../support/assert-error.ts';
import { ScriptedExecutor } from '../../support/scripted-executor.ts';
import { count, expectedCatalog, storedCatalog, tenantWithAccounts } from './catalog-support.ts';
import { useFakeComposio } from './support.ts';

const T0 = new Date('2026-03-01T00:00:00Z');

forEachBackend('token bucket (steward.take_tokens)', (ctx, engine) => {
  const take = (input: Partial<TakeTokensInput> & { tenantId: string }) =>
    takeTokens(ctx().service(), { bucket: 'b', n: 1, capacity: 3, refillPerSecond: 1, now: T0, ...input });

  it('starts full, grants until empty, then says how long until the tokens are back', async () => {
    const tenant = await tenantWithAccounts(ctx(), [], '60000000');
    assert.deepEqual(await take({ tenantId: tenant }), { granted: true, waitMs: 0, tokens: 2 });
    assert.deepEqual(await take({ tenantId: tenant, n: 2 }), { granted: true, waitMs: 0, tokens: 0 });
    assert.deepEqual(await take({ tenantId: tenant }), { granted: false, waitMs: 1000, tokens: 0 });
    assert.deepEqual(await take({ tenantId: tenant, n: 3 }), { granted: false, waitMs: 3000, tokens: 0 });
    // 1.5 s later: 1.5 tokens.
    const later = new Date(T0.getTime() + 1500);
    assert.deepEqual(await take({ tenantId: tenant, n: 2, now: later }), { granted: false, waitMs: 500, tokens: 1.5 });
    assert.deepEqual(await take({ tenantId: tenant, now: later }), { granted: true, waitMs: 0, tokens: 0.5 });
    // Never beyond the capacity, however long it waited; a clock behind the last refill adds nothing.
    assert.deepEqual(await take({ tenantId: tenant, now: new Date(T0.getTime() + 3_600_000) }), { granted: true, waitMs: 0, tokens: 2 });
    assert.deepEqual(await take({ tenantId: tenant, now: T0 }), { granted: true, waitMs: 0, tokens: 1 });
    // A smaller capacity applies at once.
    assert.deepEqual(await take({ tenantId: tenant, capacity: 1, now: new Date(T0.getTime() + 7_200_000) }), { granted: true, waitMs: 0, tokens: 0 });
  });

  it('buckets are per tenant and per name', async () => {
    const a = await tenantWithAccounts(ctx(), [], '60000000');
    const b = await tenantWithAccounts(ctx(), [], '60000000');
    await take({ tenantId: a, n: 3 });
    assert.equal((await take({ tenantId: a })).granted, false);
    assert.equal((await take({ tenantId: b })).granted, true);
    assert.equal((await take({ tenantId: a, bucket: 'other' })).granted, true);
  });

  it(`never grants more than it holds under concurrent callers${engine === 'postgres' ? ' (parallel connections)' : ''}`, async () => {
    const tenant = await tenantWithAccounts(ctx(), [], '60000000');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      take({ tenantId: tenant, bucket: 'race', n: (i % 3) + 1, capacity: 25, refillPerSecond: 0.001 })));
    const tokens = results.reduce((sum, r, i) => sum + (r.granted ? (i % 3) + 1 : 0), 0);
    assert.ok(tokens <= 25, `granted ${tokens} tokens of 25`);
    assert.ok(tokens >= 23, `a denied caller wanted more than was left (granted ${tokens})`);
    const left = await ctx().test.owner.transaction(async (tx) => (await tx.query<{ tokens: number }>(
      `select tokens from rate_buckets where tenant_id = $1 and bucket = 'race'`, [tenant])).rows[0]!.tokens);
    assert.equal(left, 25 - tokens);
  });

  it('refuses what could never be granted, naming the field; an unknown tenant is not_found', async () => {
    const tenant = await tenantWithAccounts(ctx(), [], '60000000');
    await rejectsWith(take({ tenantId: tenant, n: 4 }), 'invalid_input', 'n');
    await rejectsWith(take({ tenantId: tenant, n: 0 }), 'invalid_input', 'n');
    await rejectsWith(take({ tenantId: tenant, refillPerSecond: 0 }), 'invalid_input', 'refillPerSecond');
    await rejectsWith(take({ tenantId: tenant, bucket: ' ' }), 'invalid_input', 'bucket');
    await rejectsWith(take({ tenantId: '60000000-0000-4000-8000-ffffffffffff' }), 'not_found', 'tenant_id');
    // The SQL function checks for itself too.
    await rejectsWith(ctx().db.asService((tx) => tx.query(`select * from steward.take_tokens($1, 'b', 5, 3, 1)`, [tenant])), 'invalid_input');
  });

  it('a tenant reads its own buckets only, and can neither write them nor call take_tokens', async () => {
    const a = await tenantWithAccounts(ctx(), [], '60000000');
    const b = await tenantWithAccounts(ctx(), [], '60000000');
    await take({ tenantId: a, bucket: 'composio.catalog' });
    const read = (tenant: string) => ctx().db.asTenant({ tenant_id: tenant }, async (tx) => (await tx.query<{ tenant_id: string }>('select tenant_id from rate_buckets')).rows);
    assert.deepEqual((await read(a)).map((r) => r.tenant_id), [a]);
    assert.deepEqual(await read(b), []);
    await rejectsWith(ctx().db.asTenant({ tenant_id: a }, (tx) => tx.query(`update rate_buckets set tokens = 3`)), 'forbidden');
    await rejectsWith(ctx().db.asTenant({ tenant_id: a }, (tx) => tx.query(`select * from steward.take_tokens($1, 'b', 1, 3, 1)`, [a])), 'forbidden');
  });
});

forEachBackend('trickle refresh (steward.catalog.refresh through the outbox)', (ctx) => {
  const harness = useFakeComposio();
  let now = new Date();
  const clock = () => now;
  const advance = (ms: number) => { now = new Date(now.getTime() + ms); };
  const handler = (options: Partial<CatalogRefreshOptions> = {}) =>
    createCatalogRefreshHandler({ db: ctx().db, client: harness.client, clock, ...options });
  const worker = (options: Partial<CatalogRefreshOptions> = {}) => new OutboxWorker(
    ctx().db, new RoutingExecutor(new SandboxExecutor(), { [CATALOG_REFRESH_TOOL]: handler(options) }),
    { workerId: 'refresh-worker', clock, random: () => 0.5 },
  );
  const envelope = (id: string) => ctx().db.asService(async (tx) => (await tx.query<OutboxEnvelope>('select * from outbox where id = $1', [id])).rows[0]);
  const transitions = (id: string) => ctx().db.asService(async (tx) => (await tx.query<{ t: string }>(
    `select payload ->> 'transition' as t from audit_log where payload ->> 'envelope_id' = $1 order by id`, [id])).rows.map((r) => r.t));

  it('enqueues a system envelope once: low risk, pre-approved, a pending one reused', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail'], '61000000');
    const first = await enqueueCatalogRefresh(ctx().db, tenant, 'Gmail');
    assert.equal(first.created, true);
    const again = await enqueueCatalogRefresh(ctx().db, tenant, 'gmail');
    assert.deepEqual([again.id, again.created], [first.id, false]);
    const other = await enqueueCatalogRefresh(ctx().db, tenant, 'slack');
    assert.notEqual(other.id, first.id);

    const e = (await envelope(first.id))!;
    assert.deepEqual([e.tool_slug, e.arguments, e.risk, e.status, e.approved_by, e.metadata], [CATALOG_REFRESH_TOOL, { toolkit: 'gmail' }, 'low', 'pending', 'steward:system', { system: true }]);
    assert.ok(e.approved_at instanceof Date);
    const enqueued = await ctx().db.asService(async (tx) => (await tx.query<{ actor_type: string; actor_id: string }>(
      `select actor_type, actor_id from audit_log where payload ->> 'envelope_id' = $1`, [first.id])).rows);
    assert.deepEqual(enqueued, [{ actor_type: 'system', actor_id: 'steward' }]);

    await rejectsWith(enqueueCatalogRefresh(ctx().db, tenant, 'not a toolkit'), 'invalid_input', 'toolkit');
    await rejectsWith(enqueueCatalogRefresh(ctx().db, 'x', 'gmail'), 'invalid_input', 'tenant_id');
    await rejectsWith(enqueueCatalogRefresh(ctx().db, '61000000-0000-4000-8000-ffffffffffff', 'gmail'), 'not_found');
    await rejectsWith(ctx().db.asService((tx) => tx.query(`select * from steward.enqueue_system_envelope($1, 'GMAIL_SEND_EMAIL', '{}')`, [tenant])), 'invalid_input');
  });

  it('the worker runs it through the routing executor: the toolkit synced, the summary stored, strict guardrails no obstacle', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail'], '61000000');
    await new SqlGuardrailService(ctx().service()).upsert({ tenant_id: tenant, trust_threshold: 0.99, require_evidence: true });
    const { id } = await enqueueCatalogRefresh(ctx().db, tenant, 'gmail');
    now = new Date(Date.now() + 1000);
    await worker().runOnce(); // (with the refreshes the first test queued)

    const e = (await envelope(id))!;
    assert.equal(e.status, 'success', e.last_error ?? '');
    assert.deepEqual({ ...(e.result as Record<string, unknown>), runId: undefined }, {
      toolkit: 'gmail', runId: undefined, resumed: false, baseline: true, pages: 1, tools: 4,
      added: 4, changed: 0, removed: 0, breaking: 0, version_only: 0, unchanged: 0, flagged: 0, skipped: 0,
    });
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'succeed']);
    assert.deepEqual(await storedCatalog(ctx(), tenant), await expectedCatalog(harness.client, ['gmail']));
    const bucket = await ctx().test.owner.transaction(async (tx) => (await tx.query<{ bucket: string; tokens: number }>(
      'select bucket, tokens from rate_buckets where tenant_id = $1', [tenant])).rows);
    assert.deepEqual(bucket, [{ bucket: 'composio.catalog', tokens: 19 }]);
  });

  it('an empty bucket is a retryable failure after its wait; each attempt resumes where the last stopped', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail'], '61000000');
    harness.fake.setSyntheticTools({ gmail: 26 }); // 30 tools: 3 pages of 10
    const { id } = await enqueueCatalogRefresh(ctx().db, tenant, 'gmail');
    now = new Date(Date.now() + 1000);
    const options = { pageSize: 10, bucket: { bucket: 'composio.catalog', capacity: 2, refillPerSecond: 0.5 } };

    await worker(options).runOnce();
    let e = (await envelope(id))!;
    assert.deepEqual([e.status, e.attempts], ['pending', 1]);
    assert.match(e.last_error ?? '', /rate bucket composio.catalog is empty; the next token is due in 2000 ms/);
    assert.equal(e.next_run_at.getTime(), now.getTime() + 2000, 'the wait is the retry-after');
    assert.equal((await storedCatalog(ctx(), tenant)).length, 20, 'two pages done');
    const listed = () => harness.fake.requests.filter((r) => r.route === 'tools.list').length;
    assert.equal(listed(), 2);

    advance(1999);
    assert.deepEqual(await worker(options).runOnce(), { claimed: 0, completed: 0 }, 'not due yet');
    advance(1);
    await worker(options).runOnce();
    e = (await envelope(id))!;
    assert.equal(e.status, 'success', e.last_error ?? '');
    assert.equal(listed(), 3, 'only the third page was fetched again');
    assert.deepEqual([(e.result as { resumed: boolean }).resumed, (e.result as { pages: number }).pages, (e.result as { added: number }).added], [true, 3, 30]);
    assert.deepEqual(await transitions(id), ['enqueue', 'claim', 'retry', 'claim', 'succeed']);
    assert.deepEqual(await storedCatalog(ctx(), tenant), await expectedCatalog(harness.client, ['gmail']));
  });

  it("Composio's 429 is a retryable failure with its Retry-After, never waited out in the worker", async () => {
    const tenant = await tenantWithAccounts(ctx(), ['slack'], '61000000');
    harness.fake.inject({ route: 'tools.list', times: 1, fault: { type: '429', retryAfterSeconds: 30 } });
    const { id } = await enqueueCatalogRefresh(ctx().db, tenant, 'slack');
    now = new Date(Date.now() + 1000);
    const started = Date.now();
    await worker().runOnce();
    assert.ok(Date.now() - started < 5000);
    const e = (await envelope(id))!;
    assert.deepEqual([e.status, e.attempts, e.next_run_at.getTime()], ['pending', 1, now.getTime() + 30_000]);
    assert.match(e.last_error ?? '', /HTTP 429/);
  });

  it('steward.catalog.drift fans out into one refresh per linked toolkit; a refresh still pending is reused', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack', 'github:pending'], '61000000');
    const drift = await ctx().db.asService(async (tx) => (await tx.query<{ id: string }>(
      `select id from steward.enqueue_system_envelope($1, $2, '{}')`, [tenant, CATALOG_DRIFT_TOOL])).rows[0]!.id);
    now = new Date(Date.now() + 1000);
    const both = () => new OutboxWorker(ctx().db, new RoutingExecutor(new SandboxExecutor(), catalogSystemHandlers({ db: ctx().db, client: harness.client, clock })),
      { workerId: 'refresh-worker', clock, random: () => 0.5 });
    await both().runOnce();
    const e = (await envelope(drift))!;
    assert.deepEqual([e.status, e.result], ['success', { toolkits: ['gmail', 'slack'], enqueued: 2 }]);
    assert.equal((await enqueueCatalogRefresh(ctx().db, tenant, 'gmail')).created, false);

    now = new Date(Date.now() + 1000);
    await both().runOnce(); // one at a time: the tenant's concurrency limit is 1
    await both().runOnce();
    assert.deepEqual(await storedCatalog(ctx(), tenant), await expectedCatalog(harness.client, ['gmail', 'slack']));
    const refreshes = await ctx().db.asService(async (tx) => (await tx.query<{ toolkit: string; status: string }>(
      `select arguments ->> 'toolkit' as toolkit, status from outbox where tenant_id = $1 and tool_slug = $2 order by 1`, [tenant, CATALOG_REFRESH_TOOL])).rows);
    assert.deepEqual(refreshes, [{ toolkit: 'gmail', status: 'success' }, { toolkit: 'slack', status: 'success' }]);

    const context: ExecutionContext = { idempotencyKey: 'k', signal: new AbortController().signal };
    const bad = { tenant_id: tenant, tool_slug: CATALOG_DRIFT_TOOL, arguments: { toolkits: 'gmail' } } as unknown as OutboxEnvelope;
    await assert.rejects(createCatalogDriftHandler({ db: ctx().db })(bad, context), (x: unknown) => x instanceof ExecutionError && x.kind === 'permanent' && /^arguments\.toolkits: /.test(x.message));
  });

  it('bad arguments are a permanent failure naming the field; a toolkit the tenant no longer has is skipped', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail'], '61000000');
    const context: ExecutionContext = { idempotencyKey: 'k', signal: new AbortController().signal };
    const fake = (args: Record<string, unknown>) => ({ tenant_id: tenant, tool_slug: CATALOG_REFRESH_TOOL, arguments: args }) as OutboxEnvelope;
    await assert.rejects(handler()(fake({ toolkit: 'gmail', extra: 1 }), context), (e: unknown) => e instanceof ExecutionError && e.kind === 'permanent' && /^arguments: /.test(e.message));
    await assert.rejects(handler()(fake({}), context), (e: unknown) => e instanceof ExecutionError && e.kind === 'permanent' && /^arguments\.toolkit: /.test(e.message));
    assert.deepEqual(await handler()(fake({ toolkit: 'hubspot' }), context), { result: { toolkit: 'hubspot', skipped: 'the tenant has no linked account for this toolkit' } });
    assert.equal(await count(ctx(), 'select from tool_catalog where tenant_id = $1', [tenant]), 0);
  });
});

describe('RoutingExecutor', () => {
  const context: ExecutionContext = { idempotencyKey: 'k', signal: new AbortController().signal };
  const envelope = (tool_slug: string) => ({ tool_slug, arguments: {} }) as OutboxEnvelope;
  const fallback = new ScriptedExecutor((e) => ({ ran: e.tool_slug }));
  const routing = new RoutingExecutor(fallback, { 'steward.ping': (e) => Promise.resolve({ result: { pong: e.tool_slug } }) });

  it('sends steward.* to its handler and everything else to the wrapped executor, under its name', async () => {
    assert.deepEqual(await routing.execute(envelope('steward.ping'), context), { result: { pong: 'steward.ping' } });
    assert.deepEqual(await routing.execute(envelope('GMAIL_SEND_EMAIL'), context), { result: { ran: 'GMAIL_SEND_EMAIL' } });
    assert.equal(fallback.calls.length, 1);
    assert.equal(routing.name, 'scripted');
  });

  it('an unknown system tool is a permanent failure, never passed to the provider', async () => {
    await assert.rejects(routing.execute(envelope('steward.nope'), context), (e: unknown) => e instanceof ExecutionError && e.kind === 'permanent' && /steward\.nope/.test(e.message));
    assert.equal(fallback.calls.length, 1);
  });

  it('handlers must be named steward.*', () => {
    assert.throws(() => new RoutingExecutor(fallback, { GMAIL_SEND_EMAIL: () => Promise.resolve({ result: null }) }), /must be named steward\.\*/);
  });
});
