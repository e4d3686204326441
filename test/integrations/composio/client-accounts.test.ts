import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { V1 } from '../../fakes/composio/index.ts';
import { rejectsComposio, useFakeComposio } from './support.ts';

// Connected accounts and auth configs: the account lifecycle Steward drives (link,
// authorise, expire, refresh, disable, delete), against the fake over real HTTP.

const h = useFakeComposio();
const DEMO = '11111111-1111-1111-1111-111111111111';

describe('Composio client: connected accounts', () => {
  it('listConnectedAccounts shows every status, filtered the way Composio filters', async () => {
    const all = await h.client.listConnectedAccounts({ orderBy: 'created_at', orderDirection: 'asc' });
    assert.equal(all.total_items, 7);
    const statuses = new Set(all.items.map((a) => a.status));
    for (const status of ['INITIATED', 'ACTIVE', 'EXPIRED', 'FAILED', 'INACTIVE'] as const) assert.ok(statuses.has(status), status);

    const broken = await h.client.listConnectedAccounts({ statuses: ['EXPIRED', 'FAILED'] });
    assert.deepEqual(broken.items.map((a) => [a.id, a.status]).sort(), [['ca_demo_hubspot', 'EXPIRED'], ['ca_failed_github', 'FAILED']]);
    assert.deepEqual(h.fake.requests.at(-1)!.query['statuses'], ['EXPIRED,FAILED']);
    assert.equal(broken.items.find((a) => a.status === 'FAILED')!.status_reason, 'OAuth error: access_denied');

    const demoSlack = await h.client.listConnectedAccounts({ userIds: [DEMO], toolkitSlugs: ['slack'] });
    assert.deepEqual(demoSlack.items.map((a) => a.id), ['ca_demo_slack']);
  });

  it('iterateConnectedAccounts follows the cursor across pages', async () => {
    const ids: string[] = [];
    for await (const account of h.client.iterateConnectedAccounts({ limit: 2 })) ids.push(account.id);
    assert.equal(ids.length, 7);
    assert.equal(new Set(ids).size, 7);
    assert.equal(h.fake.requests.length, 4, '2 + 2 + 2 + 1');
  });

  it('getConnectedAccount returns the account and drops its credentials', async () => {
    const account = await h.client.getConnectedAccount('ca_demo_gmail');
    assert.deepEqual(account, {
      id: 'ca_demo_gmail', user_id: DEMO, status: 'ACTIVE', status_reason: null, is_disabled: false,
      toolkit: { slug: 'gmail' },
      auth_config: { id: 'ac_demo_gmail', auth_scheme: 'OAUTH2', is_composio_managed: true, is_disabled: false },
      created_at: '2025-09-09T12:00:00.000Z', updated_at: '2025-09-09T12:00:00.000Z',
    });
    // The fake sends tokens in state.val and data, as Composio does; none may come through.
    const raw = await (await fetch(`${h.fake.url}/api/v3.1/connected_accounts/ca_demo_gmail`, { headers: { 'x-api-key': h.fake.apiKey } })).text();
    assert.match(raw, /fake-access-token-ca_demo_gmail/);
    assert.doesNotMatch(JSON.stringify(account), /token/);

    await rejectsComposio(h.client.getConnectedAccount('ca_missing'), { kind: 'permanent', status: 404, code: 604 });
  });

  it('initiateConnectedAccount: INITIATED with a redirect URL; authorising turns it ACTIVE and returns to the callback', async () => {
    const request = await h.client.initiateConnectedAccount({ authConfigId: 'ac_demo_slack', userId: 'user-7', callbackUrl: 'https://steward.example/callback' });
    assert.equal(request.status, 'INITIATED');
    assert.match(request.id, /^ca_/);
    assert.deepEqual(h.fake.requests.at(-1)!.body, { auth_config: { id: 'ac_demo_slack' }, connection: { user_id: 'user-7', callback_url: 'https://steward.example/callback' } });

    const consent = await fetch(request.redirect_url!, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const back = new URL(consent.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, 'https://steward.example/callback');
    assert.equal(back.searchParams.get('connected_account_id'), request.id);
    const account = await h.client.getConnectedAccount(request.id);
    assert.deepEqual([account.status, account.user_id, account.toolkit.slug], ['ACTIVE', 'user-7', 'slack']);

    await rejectsComposio(h.client.initiateConnectedAccount({ authConfigId: 'ac_unknown', userId: 'user-7' }), { kind: 'permanent', status: 404 });
  });

  it('createConnectLink returns the hosted link, its token and expiry, and the new account', async () => {
    const before = Date.now();
    const link = await h.client.createConnectLink({ authConfigId: 'ac_demo_gmail', userId: 'user-8' });
    assert.deepEqual(h.fake.requests.at(-1)!.body, { auth_config_id: 'ac_demo_gmail', user_id: 'user-8' });
    assert.match(link.link_token, /^lt_/);
    assert.ok(link.redirect_url.startsWith(`${h.fake.url}/_fake/connect/`));
    const ttl = Date.parse(link.expires_at) - before;
    assert.ok(ttl > 9 * 60_000 && ttl <= 10 * 60_000 + 1000, `expires in ${ttl} ms`);
    assert.equal((await h.client.getConnectedAccount(link.connected_account_id)).status, 'INITIATED');
    const page = await fetch(link.redirect_url);
    assert.equal(page.status, 200);
    assert.equal((await h.client.getConnectedAccount(link.connected_account_id)).status, 'ACTIVE');
  });

  it('an account that expires (or is revoked) stops working until refreshed and authorised again', async () => {
    const send = () => h.client.executeTool('SLACK_SEND_MESSAGE', { arguments: { channel: '#general', text: 'hi' }, version: V1, connectedAccountId: 'ca_demo_slack' });
    assert.equal((await send()).successful, true);
    h.fake.expireAccount('ca_demo_slack');
    const expired = await h.client.getConnectedAccount('ca_demo_slack');
    assert.deepEqual([expired.status, expired.status_reason], ['EXPIRED', 'The access token expired and could not be refreshed']);
    await rejectsComposio(send(), { kind: 'permanent', status: 410, code: 1820 });

    const refreshed = await h.client.refreshConnectedAccount('ca_demo_slack', { redirectUrl: 'https://steward.example/again' });
    assert.equal(refreshed.status, 'INITIATED');
    assert.deepEqual(h.fake.requests.at(-1)!.body, { redirect_url: 'https://steward.example/again' });
    await rejectsComposio(send(), { kind: 'permanent', status: 422 });
    await fetch(refreshed.redirect_url!, { redirect: 'manual' });
    assert.equal((await h.client.getConnectedAccount('ca_demo_slack')).status, 'ACTIVE');
    assert.equal((await send()).successful, true);

    h.fake.revokeAccount('ca_demo_slack');
    assert.equal((await h.client.getConnectedAccount('ca_demo_slack')).status, 'REVOKED');
    await rejectsComposio(send(), { kind: 'permanent', status: 410 });
    assert.equal(h.fake.executions.length, 2);
  });

  it('disable makes the account INACTIVE and refused; enable restores it', async () => {
    const fetchEmails = () => h.client.executeTool('GMAIL_FETCH_EMAILS', { arguments: {}, version: V1, connectedAccountId: 'ca_demo_gmail' });
    await h.client.disableConnectedAccount('ca_demo_gmail');
    assert.deepEqual(h.fake.requests.at(-1)!.body, { enabled: false });
    const disabled = await h.client.getConnectedAccount('ca_demo_gmail');
    assert.deepEqual([disabled.status, disabled.is_disabled], ['INACTIVE', true]);
    await rejectsComposio(fetchEmails(), { kind: 'permanent', status: 422 });

    await h.client.enableConnectedAccount('ca_demo_gmail');
    const enabled = await h.client.getConnectedAccount('ca_demo_gmail');
    assert.deepEqual([enabled.status, enabled.is_disabled], ['ACTIVE', false]);
    assert.equal((await fetchEmails()).successful, true);

    // Disabling cannot cure an expiry: enabling returns the account to EXPIRED.
    await h.client.disableConnectedAccount('ca_demo_hubspot');
    await h.client.enableConnectedAccount('ca_demo_hubspot');
    assert.equal((await h.client.getConnectedAccount('ca_demo_hubspot')).status, 'EXPIRED');
    await rejectsComposio(h.client.disableConnectedAccount('ca_missing'), { kind: 'permanent', status: 404 });
  });

  it('deleteConnectedAccount removes it from every read', async () => {
    await h.client.deleteConnectedAccount('ca_failed_github');
    assert.equal(h.fake.requests.at(-1)!.method, 'DELETE');
    await rejectsComposio(h.client.getConnectedAccount('ca_failed_github'), { kind: 'permanent', status: 404 });
    const left = await h.client.listConnectedAccounts();
    assert.equal(left.total_items, 6);
    assert.ok(!left.items.some((a) => a.id === 'ca_failed_github'));
    await rejectsComposio(h.client.deleteConnectedAccount('ca_failed_github'), { kind: 'permanent', status: 404 });
  });
});

describe('Composio client: auth configs', () => {
  it('lists, gets and creates Composio-managed auth configs, dropping credentials', async () => {
    const all = await h.client.listAuthConfigs();
    assert.deepEqual(all.items.map((c) => c.id), ['ac_demo_gmail', 'ac_demo_slack', 'ac_demo_hubspot', 'ac_demo_github']);
    assert.equal(all.items[1]!.no_of_connections, 2, 'ca_demo_slack and ca_second_slack');
    const hubspot = await h.client.listAuthConfigs({ toolkitSlug: 'hubspot' });
    assert.deepEqual(hubspot.items.map((c) => c.id), ['ac_demo_hubspot']);

    const created = await h.client.createAuthConfig({ toolkitSlug: 'github', name: 'GitHub for Steward', scopes: ['repo'] });
    assert.deepEqual(h.fake.requests.at(-1)!.body, { toolkit: { slug: 'github' }, auth_config: { type: 'use_composio_managed_auth', name: 'GitHub for Steward', credentials: { scopes: ['repo'] } } });
    assert.deepEqual([created.toolkit.slug, created.auth_config.is_composio_managed, created.auth_config.auth_scheme], ['github', true, 'OAUTH2']);
    const fetched = await h.client.getAuthConfig(created.auth_config.id);
    assert.deepEqual([fetched.name, fetched.status, fetched.type, fetched.no_of_connections], ['GitHub for Steward', 'ENABLED', 'default', 0]);
    assert.equal('credentials' in fetched, false);

    const link = await h.client.createConnectLink({ authConfigId: created.auth_config.id, userId: 'user-9' });
    assert.equal((await h.client.getConnectedAccount(link.connected_account_id)).auth_config.id, created.auth_config.id);

    await rejectsComposio(h.client.createAuthConfig({ toolkitSlug: 'salesforce' }), { kind: 'permanent', status: 400 });
    await rejectsComposio(h.client.getAuthConfig('ac_missing'), { kind: 'permanent', status: 404 });
  });
});
