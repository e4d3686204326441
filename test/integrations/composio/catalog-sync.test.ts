import assert from 'node:assert/strict';
import { it } from 'node:test';
import { syncCatalog, syncToolkit, type CatalogSyncProgress } from '../../../src/integrations/composio/catalog-sync.ts';
import { ComposioError } from '../../../src/integrations/composio/index.ts';
import { forEachBackend } from '../../support/backends.ts';
import { rejectsWith } from '../../support/assert-error.ts';
import { auditRows, catalogTimestamps, count, expectedCatalog, padTo, storedCatalog, tenantWithAccounts } from './catalog-support.ts';
import { useFakeComposio } from './support.ts';

const THREE = ['gmail', 'hubspot', 'slack'];

forEachBackend('catalog sync against the fake Composio', (ctx) => {
  const harness = useFakeComposio();
  const options = (extra: Partial<Parameters<typeof syncCatalog>[0]> = {}) => ({ db: ctx().db, client: harness.client, ...extra });
  const progressLog = () => {
    const events: CatalogSyncProgress[] = [];
    return { events, onProgress: (e: CatalogSyncProgress) => void events.push(e) };
  };
  const listRequests = () => harness.fake.requests.filter((r) => r.route === 'tools.list');

  // First: with no tenantIds the sync takes every tenant, and later tests add many.
  it('every tenant with linked accounts, each its own toolkits only', async () => {
    const a = await tenantWithAccounts(ctx(), ['gmail'], '51000000');
    const b = await tenantWithAccounts(ctx(), ['github', 'slack:revoked'], '51000000');
    const report = await syncCatalog(options());
    const mine = report.toolkits.filter((t) => t.tenantId === a || t.tenantId === b).map((t) => [t.tenantId === a ? 'a' : 'b', t.toolkit]);
    assert.deepEqual(mine, [['a', 'gmail'], ['b', 'github']]);
    assert.deepEqual((await storedCatalog(ctx(), b)).map((r) => r.toolkit), ['github', 'github']);
    // Named toolkits: only those of the tenant's.
    const only = await syncCatalog(options({ tenantIds: [a], toolkits: ['slack', 'gmail'] }));
    assert.deepEqual(only.toolkits.map((t) => t.toolkit), ['gmail']);
  });

  it('3 toolkits × 200 tools, paginated, one 429 in the middle: the exact catalog, and again: nothing changes', async () => {
    // github is INITIATED only (never linked): not synced. hubspot's account expired: still the tenant's.
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack', 'hubspot:expired', 'github:pending']);
    harness.fake.setSyntheticTools(padTo(200, THREE));
    harness.fake.inject({ route: 'tools.list', skip: 5, times: 1, fault: { type: '429', retryAfterMs: 40 } });
    const log = progressLog();

    const started = Date.now();
    const first = await syncCatalog(options({ tenantIds: [tenant], pageSize: 50, onProgress: log.onProgress }));
    assert.ok(Date.now() - started >= 40, 'waited for Retry-After');
    assert.deepEqual(first.failures, []);
    assert.deepEqual(first.toolkits.map((t) => [t.toolkit, t.tools, t.pages, t.added, t.baseline, t.resumed]), [
      ['gmail', 200, 4, 200, true, false], ['hubspot', 200, 4, 200, true, false], ['slack', 200, 4, 200, true, false],
    ]);
    // 12 pages, and the page refused with 429 asked again with the same cursor.
    const requests = listRequests();
    assert.equal(requests.length, 13);
    assert.equal(requests[5]!.status, 429);
    assert.deepEqual(requests[6]!.query, requests[5]!.query);
    assert.deepEqual(log.events.filter((e) => e.type === 'retrying').map((e) => e.type === 'retrying' && [e.toolkit, e.attempt, e.waitMs, e.status]), [['hubspot', 1, 40, 429]]);
    assert.equal(log.events.filter((e) => e.type === 'page_synced').length, 12);

    const expected = await expectedCatalog(harness.client, THREE);
    assert.equal(expected.length, 600);
    assert.deepEqual(await storedCatalog(ctx(), tenant), expected);
    // A first import is not drift: no catalog_audit rows; one audit_log entry per toolkit.
    assert.equal(await count(ctx(), 'select from catalog_audit where tenant_id = $1', [tenant]), 0);
    const entries = await auditRows(ctx(), tenant, 'catalog');
    assert.deepEqual(entries.map((e) => [e.payload.toolkit, e.payload.baseline, e.payload.added, e.payload.tools, e.payload.pages]), [
      ['gmail', true, 200, 200, 4], ['hubspot', true, 200, 200, 4], ['slack', true, 200, 200, 4],
    ]);

    const stamps = await catalogTimestamps(ctx(), tenant);
    const second = await syncCatalog(options({ tenantIds: [tenant], pageSize: 50 }));
    assert.deepEqual(second.toolkits.map((t) => [t.toolkit, t.unchanged, t.added, t.changed, t.removed, t.version_only, t.baseline]), [
      ['gmail', 200, 0, 0, 0, 0, false], ['hubspot', 200, 0, 0, 0, 0, false], ['slack', 200, 0, 0, 0, 0, false],
    ]);
    assert.deepEqual(await storedCatalog(ctx(), tenant), expected);
    assert.deepEqual(await catalogTimestamps(ctx(), tenant), stamps, 'no row written');
    assert.equal(await count(ctx(), 'select from catalog_audit where tenant_id = $1', [tenant]), 0);
    assert.equal((await auditRows(ctx(), tenant, 'catalog')).length, 3, 'no audit row for a sync that changed nothing');
  });

  it('a sync stopped after page 2 resumes at page 3 and ends with the exact catalog', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail']);
    harness.fake.setSyntheticTools(padTo(200, ['gmail']));
    const stop = new AbortController();
    await assert.rejects(syncCatalog(options({
      tenantIds: [tenant], pageSize: 50, signal: stop.signal,
      onProgress: (e) => { if (e.type === 'page_synced' && e.page === 2) stop.abort(); },
    })), { name: 'AbortError' });

    const checkpoint = await ctx().test.owner.transaction(async (tx) => (await tx.query<{ pages: number; cursor: string | null; completed_at: Date | null; seen: string[] }>(
      `select pages, cursor, completed_at, seen from steward.catalog_sync_checkpoints where tenant_id = $1 and toolkit = 'gmail'`, [tenant])).rows[0]!);
    assert.deepEqual([checkpoint.pages, checkpoint.completed_at, checkpoint.seen.length], [2, null, 100]);
    assert.notEqual(checkpoint.cursor, null);
    assert.equal((await storedCatalog(ctx(), tenant)).length, 100);

    const before = listRequests().length;
    const log = progressLog();
    const report = await syncCatalog(options({ tenantIds: [tenant], pageSize: 50, onProgress: log.onProgress }));
    const resumedRequests = listRequests().slice(before);
    assert.equal(resumedRequests.length, 2, 'pages 3 and 4 only');
    assert.deepEqual(resumedRequests[0]!.query['cursor'], [checkpoint.cursor]);
    assert.deepEqual(log.events[0], { type: 'toolkit_started', tenantId: tenant, toolkit: 'gmail', runId: report.toolkits[0]!.runId, resumed: true, pagesDone: 2 });
    assert.deepEqual(report.toolkits.map((t) => [t.resumed, t.pages, t.tools, t.added, t.baseline]), [[true, 4, 200, 200, true]]);
    assert.deepEqual(await storedCatalog(ctx(), tenant), await expectedCatalog(harness.client, ['gmail']));
    // One run, one audit entry, however many processes it took.
    assert.deepEqual((await auditRows(ctx(), tenant, 'catalog')).map((e) => [e.payload.added, e.payload.pages]), [[200, 4]]);
  });

  it('a resumed cursor the provider refuses starts the run over from the first page', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['slack']);
    await ctx().test.owner.transaction((tx) => tx.query(
      `insert into steward.catalog_sync_checkpoints (tenant_id, toolkit, run_id, cursor, pages, baseline, started_at, updated_at)
       values ($1, 'slack', gen_random_uuid(), 'not-a-cursor', 1, true, now(), now())`, [tenant]));
    const log = progressLog();
    const [summary] = (await syncCatalog(options({ tenantIds: [tenant], onProgress: log.onProgress }))).toolkits;
    assert.equal(log.events.filter((e) => e.type === 'restarted').length, 1);
    assert.deepEqual([summary!.resumed, summary!.pages, summary!.tools], [true, 1, 3]);
    assert.deepEqual(await storedCatalog(ctx(), tenant), await expectedCatalog(harness.client, ['slack']));
  });

  it('retryable failures are retried a bounded number of times; a toolkit that keeps failing is reported and the others go on', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack']);
    // Every slack page fails with 503; gmail succeeds.
    harness.fake.inject({ route: 'tools.list', fault: { type: '5xx', status: 503 } , skip: 1 });
    const log = progressLog();
    const report = await syncCatalog(options({ tenantIds: [tenant], retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onProgress: log.onProgress }));
    assert.deepEqual(report.toolkits.map((t) => t.toolkit), ['gmail']);
    assert.deepEqual(report.failures.map((f) => [f.toolkit, (f.error as ComposioError).status]), [['slack', 503]]);
    assert.equal(listRequests().length, 1 + 3, 'gmail once, slack three times');
    assert.deepEqual(log.events.filter((e) => e.type === 'retrying').map((e) => e.type === 'retrying' && e.attempt), [1, 2]);
    assert.deepEqual(log.events.at(-1)?.type, 'toolkit_failed');
    assert.equal((await storedCatalog(ctx(), tenant)).filter((r) => r.toolkit === 'slack').length, 0);
  });

  it('a Retry-After longer than allowed ends the toolkit at once; its checkpoint keeps the place', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail']);
    harness.fake.setSyntheticTools({ gmail: 6 });
    harness.fake.inject({ route: 'tools.list', skip: 1, times: 1, fault: { type: '429', retryAfterSeconds: 3600 } });
    const report = await syncCatalog(options({ tenantIds: [tenant], pageSize: 5 }));
    assert.equal(report.failures[0]?.error instanceof ComposioError && report.failures[0].error.retryAfterMs, 3_600_000);
    assert.equal(listRequests().length, 2);
    const resumed = await syncCatalog(options({ tenantIds: [tenant], pageSize: 5 }));
    assert.deepEqual(resumed.toolkits.map((t) => [t.resumed, t.pages, t.tools]), [[true, 2, 10]]);
  });

  it("a 401 (Steward's own key) stops the whole sync", async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack']);
    const client = harness.clientWith({ apiKey: 'ak_wrong' });
    await assert.rejects(syncCatalog({ db: ctx().db, client, tenantIds: [tenant] }), (e: unknown) => e instanceof ComposioError && e.kind === 'auth');
    assert.equal(listRequests().length, 1);
  });

  it('a tenant overrides the risk rule (with guardrails:write); the sync keeps the override', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail']);
    await syncCatalog(options({ tenantIds: [tenant] }));
    const risk = async () => (await storedCatalog(ctx(), tenant)).find((r) => r.tool_slug === 'GMAIL_SEND_EMAIL')!;
    assert.deepEqual([(await risk()).risk, (await risk()).derived_risk], ['medium', 'medium']);

    const override = (scopes: string[]) => ctx().db.asTenant({ tenant_id: tenant, sub: 'user-1', scopes }, (tx) => tx.query(
      `insert into tool_risk_overrides (tenant_id, tool_slug, risk, reason) values ($1, 'GMAIL_SEND_EMAIL', 'high', 'customer-facing')`, [tenant]));
    await rejectsWith(override([]), 'forbidden');
    await override(['guardrails:write']);
    assert.deepEqual([(await risk()).risk, (await risk()).derived_risk], ['high', 'medium']);

    await syncCatalog(options({ tenantIds: [tenant] }));
    assert.equal((await risk()).risk, 'high');
    // A new version of the tool takes the override too.
    harness.fake.setCatalogVersion(2);
    await syncCatalog(options({ tenantIds: [tenant] }));
    const versions = (await storedCatalog(ctx(), tenant)).filter((r) => r.tool_slug === 'GMAIL_SEND_EMAIL');
    assert.deepEqual(versions.map((r) => [r.version, r.risk]), [['20250909_00', 'high'], ['20251120_00', 'high']]);

    await ctx().db.asService((tx) => tx.query(`delete from tool_risk_overrides where tenant_id = $1`, [tenant]));
    assert.equal((await risk()).risk, 'medium');
    assert.deepEqual((await auditRows(ctx(), tenant, 'catalog')).filter((e) => e.payload.event === 'risk_override').map((e) => [e.actor_id, e.payload.from, e.payload.to]), [
      ['user-1', undefined, 'high'], ['service_role', 'high', undefined],
    ]);
  });

  it('syncToolkit syncs one toolkit, linked or not; bad input names the field', async () => {
    const tenant = await tenantWithAccounts(ctx(), []);
    const summary = await syncToolkit(options(), tenant, 'GitHub');
    assert.deepEqual([summary.toolkit, summary.tools], ['github', 2]);
    await rejectsWith(syncToolkit(options(), 'nope', 'github'), 'invalid_input', 'tenantId');
    await rejectsWith(syncToolkit(options(), tenant, 'git hub'), 'invalid_input', 'toolkit');
    await rejectsWith(syncCatalog(options({ tenantIds: ['x'] })), 'invalid_input', 'tenantIds.0');
    await rejectsWith(syncCatalog(options({ pageSize: 0 })), 'invalid_input', 'pageSize');
  });
});
