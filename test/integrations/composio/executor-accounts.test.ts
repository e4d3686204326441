import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ConnectedAccountLifecycle } from '../../../src/integrations/composio/index.ts';
import { SqlConnectedAccountService, type ConnectedAccount } from '../../../src/services/connected-account-service.ts';
import { ComposioExecutor } from '../../../src/worker/executors/composio-executor.ts';
import { OutboxWorker, type OutboxWorkerOptions } from '../../../src/worker/outbox-worker.ts';
import { V1 } from '../../fakes/composio/index.ts';
import { forEachBackend } from '../../support/backends.ts';
import { useFakeComposio } from './support.ts';
import { accountAudit, composioTenant, enqueueEnvelope, envelopeAudit, envelopeRow, executeCalls, T0, type CatalogTool } from './worker-fixture.ts';

// Connected accounts that cannot act, under the real worker against the fake: the
// account's row takes Composio's state (audited) and envelopes for it wait for a person
// in awaiting_approval, without reaching the provider once Steward knows.

const SEND = 'GMAIL_SEND_EMAIL';
const EMAIL = { recipient_email: 'jane@example.com', subject: 'Renewal', body: 'Shall we talk on Monday?' };
// No required scopes: the envelope passes the scope guardrail and reaches the executor,
// whose own account check is what these tests are about.
const UNSCOPED: CatalogTool[] = [{ slug: SEND, version: V1, required_scopes: [] }];

forEachBackend('ComposioExecutor and connected accounts', (ctx) => {
  const composio = useFakeComposio();
  const gmail = (tools: CatalogTool[] = UNSCOPED) => composioTenant(ctx(), composio.fake, composio.client, { toolkit: 'gmail', tools });
  const executor = () => new ComposioExecutor({ db: ctx().db, client: composio.client });
  const worker = (options: OutboxWorkerOptions = {}) =>
    new OutboxWorker(ctx().db, executor(), { workerId: 'composio-test', clock: () => T0, random: () => 0.5, batchSize: 50, concurrency: 1, ...options });
  const account = (id: string) => new SqlConnectedAccountService(ctx().service()).get(id);

  it('an account expired at Composio: marked expired (audited), the envelope held; the next one is held without a call', async () => {
    const t = await gmail();
    composio.fake.expireAccount(t.composioId);
    const first = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();

    const held = await envelopeRow(ctx(), first.id);
    assert.deepEqual([held.status, held.attempts], ['awaiting_approval', 1]);
    assert.match(held.last_error ?? '', new RegExp(`connected account ${t.composioId} is expired .*re-authorise it.*then approve this envelope`));
    assert.equal((await account(t.accountId)).status, 'expired');
    const [change, ...more] = await accountAudit(ctx(), t.accountId);
    assert.equal(more.length, 0);
    assert.deepEqual([change?.actor_type, change?.actor_id], ['worker', 'composio-executor']);
    assert.deepEqual(
      [change?.payload.transition, change?.payload.from, change?.payload.to, change?.payload.envelope_id, change?.payload.http_status, change?.payload.provider_code],
      ['execution_refused', 'active', 'expired', first.id, 410, 1820],
    );
    assert.match(String(change?.payload.reason), /expired/i);
    const audited = (await envelopeAudit(ctx(), first.id)).at(-1)!;
    assert.deepEqual([audited.transition, audited.to], ['await_approval', 'awaiting_approval']);
    assert.equal(executeCalls(composio.fake, { key: first.external_id }), 1);

    const next = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    const r = await envelopeRow(ctx(), next.id);
    assert.equal(r.status, 'awaiting_approval');
    assert.match(r.last_error ?? '', /the connected account is expired: awaiting approval once it is repaired/);
    assert.equal(executeCalls(composio.fake, { key: next.external_id }), 0, 'no execute call');
    assert.equal(composio.fake.executions.length, 0);
    assert.deepEqual((await envelopeAudit(ctx(), next.id)).map((p) => p.transition), ['enqueue', 'claim', 'await_approval']);
    assert.equal((await accountAudit(ctx(), t.accountId)).length, 1, 'the status did not change again');
  });

  it('with scopes required, the next envelope for an expired account does not execute either (the guardrails stop it first)', async () => {
    const t = await gmail([{ slug: SEND, version: V1 }]);
    composio.fake.expireAccount(t.composioId);
    await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    assert.equal((await account(t.accountId)).status, 'expired');

    const next = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    const r = await envelopeRow(ctx(), next.id);
    // Held by the account guardrail (before the scope check, which would reject it for
    // the scopes an inactive account no longer grants): composio-tooling.md, "Expired accounts".
    assert.equal(r.status, 'awaiting_approval');
    assert.equal(executeCalls(composio.fake, { key: next.external_id }), 0);
    const decision = (await envelopeAudit(ctx(), next.id)).at(-1)!.decision as { guardrail: string };
    assert.equal(decision.guardrail, 'account');
  });

  it('revoked, answered 422: marked revoked; a disabled account: inactive', async () => {
    composio.fake.setExpiredAccountStatus(422);
    const [revoked, disabled] = [await gmail(), await gmail()];
    composio.fake.revokeAccount(revoked.composioId);
    composio.fake.setAccountStatus(disabled.composioId, 'INACTIVE', 'Disabled by the project');
    const a = await enqueueEnvelope(ctx(), revoked, { tool_slug: SEND, arguments: EMAIL });
    const b = await enqueueEnvelope(ctx(), disabled, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    assert.deepEqual([(await account(revoked.accountId)).status, (await account(disabled.accountId)).status], ['revoked', 'inactive']);
    assert.match((await envelopeRow(ctx(), a.id)).last_error ?? '', /is revoked .*link the account again/);
    assert.match((await envelopeRow(ctx(), b.id)).last_error ?? '', /is inactive \(Disabled by the project\); enable it at Composio/);
    assert.equal((await accountAudit(ctx(), disabled.accountId))[0]?.payload.http_status, 422);
  });

  it('an account deleted at Composio (404, code 1803) is marked revoked', async () => {
    const t = await gmail();
    await composio.client.deleteConnectedAccount(t.composioId);
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    assert.equal((await envelopeRow(ctx(), e.id)).status, 'awaiting_approval');
    assert.equal((await account(t.accountId)).status, 'revoked');
    assert.match(String((await accountAudit(ctx(), t.accountId))[0]?.payload.reason), /no longer exists at Composio/);
  });

  it('a 410 about something else (the account is active at Composio) is permanent and leaves the account alone', async () => {
    const t = await gmail();
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    composio.fake.inject({ tool: SEND, times: 1, fault: { type: '410', message: 'Tool GMAIL_SEND_EMAIL is deprecated', code: 2410 } });
    await worker().runOnce();
    const r = await envelopeRow(ctx(), e.id);
    assert.equal(r.status, 'dlq');
    assert.match(r.last_error ?? '', /HTTP 410 Tool GMAIL_SEND_EMAIL is deprecated/);
    assert.equal((await account(t.accountId)).status, 'active');
    assert.deepEqual(await accountAudit(ctx(), t.accountId), []);
  });

  it('when Composio cannot be asked about the account, an expiry code is trusted', async () => {
    const t = await gmail();
    composio.fake.expireAccount(t.composioId);
    composio.fake.inject({ route: 'connected_accounts.get', times: 1, fault: { type: '5xx', status: 503 } });
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    assert.equal((await envelopeRow(ctx(), e.id)).status, 'awaiting_approval');
    assert.equal((await account(t.accountId)).status, 'expired');
  });

  it('the remedy: re-authorise, refresh (active again), approve: the held envelope runs', async () => {
    const t = await gmail();
    composio.fake.expireAccount(t.composioId);
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    await worker().runOnce();
    assert.equal((await envelopeRow(ctx(), e.id)).status, 'awaiting_approval');

    const activated: ConnectedAccount[] = [];
    const lifecycle = new ConnectedAccountLifecycle({ access: ctx().service(), client: composio.client, onActivated: (a) => void activated.push(a) });
    const { redirect_url } = await lifecycle.reauthorize(t.accountId);
    assert.equal((await account(t.accountId)).status, 'pending');
    const page = await fetch(redirect_url!); // the person authorises at the (fake) provider
    assert.equal(page.status, 200);
    await page.text();
    const change = await lifecycle.refresh(t.accountId);
    assert.deepEqual([change.previous_status, change.account.status, activated.length], ['pending', 'active', 1]);

    await ctx().db.asTenant({ tenant_id: t.id, sub: 'c0ffee00-0000-4000-8000-000000000002' }, (tx) => tx.query('select public.approve_envelope($1)', [e.id]));
    await worker({ clock: () => new Date() }).runOnce(); // approve stamps next_run_at with the database clock
    const r = await envelopeRow(ctx(), e.id);
    assert.deepEqual([r.status, r.attempts], ['success', 2]);
    assert.deepEqual((await accountAudit(ctx(), t.accountId)).map((a) => [a.payload.transition, a.payload.to]),
      [['execution_refused', 'expired'], ['reauthorize', 'pending'], ['refresh', 'active']]);
  });

  it("an envelope cannot use another tenant's account: not by its Composio id, nor by a row claiming it", async () => {
    const [owner, other] = [await gmail(), await gmail()];
    const borrowed = await enqueueEnvelope(ctx(), other, { tool_slug: SEND, arguments: EMAIL, connected_account_id: owner.composioId });
    const byStewardId = await enqueueEnvelope(ctx(), other, { tool_slug: SEND, arguments: EMAIL, connected_account_id: owner.accountId });
    await worker().runOnce();
    for (const e of [borrowed, byStewardId]) {
      const r = await envelopeRow(ctx(), e.id);
      assert.equal(r.status, 'dlq');
      assert.match(r.last_error ?? '', /is not one of the tenant's connected accounts/);
    }
    assert.equal(executeCalls(composio.fake), 0);

    // The tenant writes the owner's Composio id into a row of its own (its grants allow
    // that): Composio refuses, since the account's user is the owner tenant.
    await new SqlConnectedAccountService(ctx().tenant({ tenant_id: other.id })).create({
      tenant_id: other.id, provider: 'gmail', status: 'active', metadata: { composio_id: owner.composioId },
    });
    const claimed = await enqueueEnvelope(ctx(), other, { tool_slug: SEND, arguments: EMAIL, connected_account_id: owner.composioId });
    await worker().runOnce();
    const r = await envelopeRow(ctx(), claimed.id);
    assert.equal(r.status, 'dlq');
    assert.match(r.last_error ?? '', /does not belong to user/);
    assert.equal(composio.fake.executions.length, 0);
    assert.equal((await account(owner.accountId)).status, 'active');
  });

  it('an account not active in Steward is not sent to Composio, whatever Composio would say', async () => {
    const t = await composioTenant(ctx(), composio.fake, composio.client, { toolkit: 'gmail', tools: UNSCOPED, accountStatus: 'pending' });
    const e = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL });
    const none = await enqueueEnvelope(ctx(), t, { tool_slug: SEND, arguments: EMAIL, connected_account_id: null });
    await worker().runOnce();
    assert.match((await envelopeRow(ctx(), e.id)).last_error ?? '', /the connected account is pending: awaiting approval/);
    assert.match((await envelopeRow(ctx(), none.id)).last_error ?? '', /names no connected_account_id/);
    assert.equal(executeCalls(composio.fake), 0);
  });
});
