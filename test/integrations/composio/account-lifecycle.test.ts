import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { StewardError } from '../../../src/errors.ts';
import { ConnectedAccountLifecycle, type AccountLifecycleOptions } from '../../../src/integrations/composio/index.ts';
import type { Access } from '../../../src/services/access.ts';
import { SqlConnectedAccountService, type ConnectedAccount } from '../../../src/services/connected-account-service.ts';
import { SqlTenantService } from '../../../src/services/tenant-service.ts';
import type { AccountStatus } from '../../fakes/composio/index.ts';
import { forEachBackend } from '../../support/backends.ts';
import { useFakeComposio } from './support.ts';
import { accountAudit } from './worker-fixture.ts';

// The connected-account lifecycle against the fake over HTTP, on each engine: Composio is
// asked first, then Steward's row and its audit row change together; a tenant's access
// reaches its own accounts only, and is refused before Composio is called.

const GMAIL_CONFIG = 'ac_demo_gmail';

async function rejectsWith(promise: Promise<unknown>, code: StewardError['code'], pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StewardError, String(e));
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

forEachBackend('ConnectedAccountLifecycle', (ctx) => {
  const composio = useFakeComposio();
  const lifecycle = (access: Access = ctx().service(), options: Partial<AccountLifecycleOptions> = {}) =>
    new ConnectedAccountLifecycle({ access, client: composio.client, ...options });
  const asTenant = (tenant_id: string) => ctx().tenant({ tenant_id, sub: `user-of-${tenant_id.slice(0, 8)}` });
  const row = (id: string) => new SqlConnectedAccountService(ctx().service()).get(id);

  async function tenant(): Promise<string> {
    const id = randomUUID();
    await new SqlTenantService(ctx().service()).create({ id, name: `lifecycle ${id.slice(0, 8)}` });
    return id;
  }

  /** The person opens the link and authorises (the fake's connect page). */
  async function authorise(redirectUrl: string): Promise<void> {
    const page = await fetch(redirectUrl, { redirect: 'manual' });
    await page.text();
    assert.ok(page.status === 200 || page.status === 302, `connect page answered ${page.status}`);
  }

  it('initiate: a Connect Link for the tenant as Composio user, our row pending with the Composio id, audited', async () => {
    const t = await tenant();
    const link = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG, scopes: ['gmail.send'], callback_url: 'https://app.example.com/linked' });
    assert.match(link.redirect_url, /\/_fake\/connect\//);
    assert.ok(!Number.isNaN(Date.parse(link.expires_at)));
    const a = link.account;
    assert.deepEqual([a.tenant_id, a.provider, a.status, a.scopes, a.linked_at], [t, 'gmail', 'pending', ['gmail.send'], null]);
    const composioId = a.metadata['composio_id'] as string;
    assert.deepEqual(a.metadata, { composio_id: composioId, auth_config_id: GMAIL_CONFIG, composio_user_id: t });
    const remote = composio.fake.account(composioId)!;
    assert.deepEqual([remote.userId, remote.status, remote.callbackUrl], [t, 'INITIATED', 'https://app.example.com/linked']);
    const [audit] = await accountAudit(ctx(), a.id);
    assert.deepEqual([audit?.actor_type, audit?.actor_id], ['service', 'account-lifecycle']);
    assert.deepEqual(audit?.payload, { account_id: a.id, composio_id: composioId, provider: 'gmail', transition: 'link', to: 'pending', auth_config_id: GMAIL_CONFIG });
  });

  it('refresh: nothing new writes nothing; once authorised it is active (linked_at set, audited) and the hook runs once', async () => {
    const t = await tenant();
    const activated: ConnectedAccount[] = [];
    const service = lifecycle(ctx().service(), { onActivated: (a) => void activated.push(a) });
    const { account, redirect_url } = await service.initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });

    const unchanged = await service.refresh(account.id);
    assert.deepEqual([unchanged.changed, unchanged.account.status], [false, 'pending']);
    assert.equal((await accountAudit(ctx(), account.id)).length, 1, 'only the link');

    await authorise(redirect_url);
    const change = await service.refresh(account.id);
    assert.deepEqual([change.changed, change.previous_status, change.account.status], [true, 'pending', 'active']);
    assert.ok(change.account.linked_at instanceof Date);
    assert.deepEqual(activated.map((a) => [a.id, a.status]), [[account.id, 'active']]);
    const audit = (await accountAudit(ctx(), account.id)).at(-1)!;
    assert.deepEqual([audit.payload.transition, audit.payload.from, audit.payload.to], ['refresh', 'pending', 'active']);

    await service.refresh(account.id);
    assert.equal(activated.length, 1, 'not again: it was already active');
    assert.equal((await accountAudit(ctx(), account.id)).length, 2);
  });

  it("refresh maps Composio's states: EXPIRED, FAILED, REVOKED, INACTIVE (disabled) and an account Composio no longer has", async () => {
    const t = await tenant();
    const cases: [AccountStatus | 'deleted', string][] = [['EXPIRED', 'expired'], ['FAILED', 'failed'], ['REVOKED', 'revoked'], ['INACTIVE', 'inactive'], ['deleted', 'revoked']];
    for (const [remote, expected] of cases) {
      const { account } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
      const composioId = account.metadata['composio_id'] as string;
      if (remote === 'deleted') await composio.client.deleteConnectedAccount(composioId);
      else composio.fake.setAccountStatus(composioId, remote, `because ${remote}`);
      const change = await lifecycle().refresh(account.id);
      assert.equal(change.account.status, expected, remote);
      const audit = (await accountAudit(ctx(), account.id)).at(-1)!;
      assert.deepEqual([audit.payload.from, audit.payload.to], ['pending', expected]);
      assert.match(String(audit.payload.reason), remote === 'deleted' ? /no longer exists/ : new RegExp(`because ${remote}`));
    }
  });

  it('reauthorize an expired account: pending with a new link, active again once authorised', async () => {
    const t = await tenant();
    const { account, redirect_url } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    await authorise(redirect_url);
    await lifecycle().refresh(account.id);
    composio.fake.expireAccount(account.metadata['composio_id'] as string);
    assert.equal((await lifecycle().refresh(account.id)).account.status, 'expired');

    const again = await lifecycle().reauthorize(account.id, { redirect_url: 'https://app.example.com/relinked' });
    assert.equal(again.account.status, 'pending');
    await authorise(again.redirect_url!);
    assert.equal((await lifecycle().refresh(account.id)).account.status, 'active');
    assert.deepEqual((await accountAudit(ctx(), account.id)).map((a) => a.payload.transition), ['link', 'refresh', 'refresh', 'reauthorize', 'refresh']);
  });

  it('revoke: deleted at Composio, revoked here, audited with the reason; again is harmless', async () => {
    const t = await tenant();
    const { account } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    const change = await lifecycle().revoke(account.id, { reason: 'offboarding' });
    assert.deepEqual([change.changed, change.account.status], [true, 'revoked']);
    assert.equal(composio.fake.account(account.metadata['composio_id'] as string)?.deleted, true);
    const again = await lifecycle().revoke(account.id);
    assert.equal(again.changed, false);
    assert.deepEqual((await accountAudit(ctx(), account.id)).map((a) => [a.payload.transition, a.payload.to, a.payload.reason ?? null]),
      [['link', 'pending', null], ['revoke', 'revoked', 'offboarding']]);
  });

  it('refreshMany polls the pending links; list reads Steward only', async () => {
    const t = await tenant();
    const first = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    const second = await lifecycle().initiate({ tenant_id: t, auth_config_id: 'ac_demo_slack' });
    await authorise(second.redirect_url);
    const before = composio.fake.requests.length;
    assert.deepEqual((await lifecycle().list({ tenant_id: t })).map((a) => [a.provider, a.status]), [['gmail', 'pending'], ['slack', 'pending']]);
    assert.equal(composio.fake.requests.length, before);

    const changes = await lifecycle().refreshMany({ tenant_id: t, status: 'pending' });
    assert.deepEqual(changes.map((c) => [c.account.id, c.account.status]), [[first.account.id, 'pending'], [second.account.id, 'active']]);
  });

  it("a tenant drives its own accounts (audited as its user) and cannot touch another tenant's: refused before Composio is called", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const own = await lifecycle(asTenant(a)).initiate({ tenant_id: a, auth_config_id: GMAIL_CONFIG });
    assert.deepEqual((await accountAudit(ctx(), own.account.id)).map((x) => [x.actor_type, x.actor_id]), [['user', `user-of-${a.slice(0, 8)}`]]);
    await authorise(own.redirect_url);
    assert.equal((await lifecycle(asTenant(a)).refresh(own.account.id)).account.status, 'active');

    const intruder = lifecycle(asTenant(b));
    const before = composio.fake.requests.length;
    assert.deepEqual(await intruder.list(), []);
    await rejectsWith(intruder.refresh(own.account.id), 'not_found');
    await rejectsWith(intruder.revoke(own.account.id), 'not_found');
    await rejectsWith(intruder.reauthorize(own.account.id), 'not_found');
    await rejectsWith(intruder.initiate({ tenant_id: a, auth_config_id: GMAIL_CONFIG }), 'not_found', /tenant/);
    assert.equal(composio.fake.requests.length, before, 'Composio was not called');

    // The SQL functions themselves, called with B's token: A's account is not found, and
    // B cannot link an account into A.
    const bAccounts = new SqlConnectedAccountService(asTenant(b));
    await rejectsWith(bAccounts.setStatus(own.account.id, { status: 'revoked', transition: 'revoke' }), 'not_found');
    await rejectsWith(bAccounts.link({ tenant_id: a, provider: 'gmail', composio_id: 'ca_planted' }), 'not_found');
    const anon = new SqlConnectedAccountService(ctx().tenant({ role: 'anon' }));
    await rejectsWith(anon.setStatus(own.account.id, { status: 'revoked', transition: 'revoke' }), 'forbidden');
    assert.equal((await row(own.account.id)).status, 'active');
    assert.equal((await accountAudit(ctx(), own.account.id)).length, 2);
  });

  it('a tenant cannot name the actor of its audit rows; the service role can', async () => {
    const t = await tenant();
    const { account } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    await new SqlConnectedAccountService(asTenant(t)).setStatus(account.id, { status: 'inactive', transition: 'disable', actor: { type: 'worker', id: 'impostor' } });
    await new SqlConnectedAccountService(ctx().service()).setStatus(account.id, { status: 'active', transition: 'enable', actor: { type: 'operator', id: 'ops@example.com' } });
    assert.deepEqual((await accountAudit(ctx(), account.id)).slice(1).map((x) => [x.actor_type, x.actor_id]),
      [['user', `user-of-${t.slice(0, 8)}`], ['operator', 'ops@example.com']]);
  });

  it('bad input is refused naming the field; an unknown status by the table; Composio errors come through', async () => {
    const t = await tenant();
    await assert.rejects(lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG, callback_url: 'javascript:alert(1)' }), (e: unknown) => e instanceof StewardError && e.field === 'callback_url');
    await assert.rejects(lifecycle().initiate({ tenant_id: 'nope', auth_config_id: GMAIL_CONFIG }), (e: unknown) => e instanceof StewardError && e.field === 'tenant_id');
    await assert.rejects(lifecycle().initiate({ tenant_id: t, auth_config_id: 'ac_missing' }), /HTTP 404 Auth config ac_missing not found/);
    const { account } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    await assert.rejects(
      new SqlConnectedAccountService(ctx().service()).setStatus(account.id, { status: 'gone' as 'revoked', transition: 'x' }),
      (e: unknown) => e instanceof StewardError && e.code === 'invalid_input' && e.field === 'status',
    );
    await rejectsWith(lifecycle().refresh(randomUUID()), 'not_found');
    const plain = await new SqlConnectedAccountService(ctx().service()).create({ tenant_id: t, provider: 'manual' });
    await assert.rejects(lifecycle().refresh(plain.id), (e: unknown) => e instanceof StewardError && e.field === 'metadata.composio_id');
  });

  it('the API key appears in no audit payload', async () => {
    const t = await tenant();
    const { account, redirect_url } = await lifecycle().initiate({ tenant_id: t, auth_config_id: GMAIL_CONFIG });
    await authorise(redirect_url);
    await lifecycle().refresh(account.id);
    await lifecycle().revoke(account.id);
    const payloads = await ctx().db.asService(async (tx) => (await tx.query<{ payload: unknown }>('select payload from audit_log where tenant_id = $1', [t])).rows);
    assert.equal(payloads.length, 3);
    assert.ok(!JSON.stringify(payloads).includes(composio.fake.apiKey));
  });
});
