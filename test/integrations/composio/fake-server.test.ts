import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startFakeComposio, V2 } from '../../fakes/composio/index.ts';
import { rejectsComposio, useFakeComposio } from './support.ts';

// The fake itself, over raw HTTP: the parts of Composio's wire format that the client
// tests do not pin down, and the admin endpoint another process drives it with.

const h = useFakeComposio();
const run = promisify(execFile);

async function api(path: string, init: RequestInit & { key?: string | null } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set('x-api-key', init.key ?? h.fake.apiKey);
  const res = await fetch(`${h.fake.url}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) as unknown, headers: res.headers };
}

describe('fake Composio: wire format', () => {
  it('answers a missing, wrong or doubled key with 401 and Composio’s error envelope', async () => {
    for (const init of [{ key: null }, { key: 'ak_wrong' }, { headers: { 'x-org-api-key': 'ok_org' } }]) {
      const res = await api('/api/v3.1/tools', init);
      assert.equal(res.status, 401, JSON.stringify(init));
      assert.deepEqual(res.body, {
        error: {
          message: 'Invalid API key', code: 10401, slug: 'Unauthorized', status: 401,
          request_id: (res.body as { error: { request_id: string } }).error.request_id,
          suggested_fix: 'Pass a valid project API key in the x-api-key header',
        },
      });
    }
  });

  it('serves the same routes under /api/v3.1 and /api/v3; anything else is a 404 envelope', async () => {
    const [v31, v3] = [await api('/api/v3.1/toolkits/slack'), await api('/api/v3/toolkits/slack')];
    assert.deepEqual([v31.status, v3.status], [200, 200]);
    assert.deepEqual((v31.body as { slug: string }).slug, (v3.body as { slug: string }).slug);
    for (const path of ['/api/v2/actions', '/api/v3.1/nope', '/tools']) {
      const res = await api(path);
      assert.equal(res.status, 404, path);
      assert.equal((res.body as { error: { status: number } }).error.status, 404);
    }
  });

  it('accepts list parameters comma-joined or repeated, and checks limit and cursor', async () => {
    const joined = await api('/api/v3.1/connected_accounts?statuses=EXPIRED,FAILED');
    const repeated = await api('/api/v3.1/connected_accounts?statuses=EXPIRED&statuses=FAILED');
    const ids = (body: unknown) => (body as { items: { id: string }[] }).items.map((a) => a.id).sort();
    assert.deepEqual(ids(joined.body), ['ca_demo_hubspot', 'ca_failed_github']);
    assert.deepEqual(ids(repeated.body), ids(joined.body));
    assert.equal((await api('/api/v3.1/tools?limit=1001')).status, 400);
    assert.equal((await api('/api/v3.1/tools?cursor=garbage')).status, 400);
    assert.equal((await api('/api/v3.1/connected_accounts?statuses=SLEEPING')).status, 400);
  });

  it('a 429 carries Retry-After and the X-RateLimit headers with the flat body the docs show', async () => {
    h.fake.inject({ fault: { type: '429', retryAfterSeconds: 12 } });
    const res = await api('/api/v3.1/tools');
    assert.equal(res.status, 429);
    assert.deepEqual(res.body, { message: 'Rate limit exceeded. Please retry after 12 seconds' });
    assert.deepEqual(['retry-after', 'x-ratelimit-remaining', 'x-ratelimit-window-size'].map((n) => res.headers.get(n)), ['12', '0', '600s']);
  });

  it('records requests without the key, in order, with the status answered', async () => {
    await api('/api/v3.1/tools/GMAIL_SEND_EMAIL?version=latest');
    await api('/api/v3.1/tools', { key: 'ak_wrong' });
    assert.deepEqual(h.fake.requests.map((r) => [r.seq, r.method, r.route, r.tool, r.status, r.headers['x-api-key']]), [
      [1, 'GET', 'tools.get', 'GMAIL_SEND_EMAIL', 200, '[valid]'],
      [2, 'GET', 'tools.list', undefined, 401, '[invalid]'],
    ]);
    assert.deepEqual(h.fake.requests[0]!.query, { version: ['latest'] });
    assert.ok(!JSON.stringify(h.fake.requests).includes(h.fake.apiKey));
  });
});

describe('fake Composio: admin endpoint', () => {
  it('another process can inject faults, switch the catalog and expire an account', async () => {
    // A separate node process, as `steward dev fake-composio` users or a bench would be.
    const script = `
      const post = (path, body) => fetch(process.argv[1] + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        .then(async (r) => { if (!r.ok) throw new Error(path + ' ' + r.status + ' ' + await r.text()); });
      await post('/_fake/faults', { tool: 'SLACK_SEND_MESSAGE', times: 1, fault: { type: '5xx', status: 502, retryAfterSeconds: 4 } });
      await post('/_fake/catalog', { version: 2 });
      await post('/_fake/accounts/ca_demo_gmail/status', { status: 'EXPIRED', reason: 'token expired' });
    `;
    await run(process.execPath, ['--input-type=module', '-e', script, h.fake.url]);

    await rejectsComposio(h.client.executeTool('SLACK_SEND_MESSAGE', { arguments: { channel: '#general', text: 'x' }, version: 'latest', connectedAccountId: 'ca_demo_slack' }),
      { kind: 'retryable', status: 502, retryAfterMs: 4000 });
    assert.equal((await h.client.getTool('SLACK_SEND_MESSAGE')).version, V2);
    const gmail = await h.client.getConnectedAccount('ca_demo_gmail');
    assert.deepEqual([gmail.status, gmail.status_reason], ['EXPIRED', 'token expired']);
  });

  it('lists and clears faults, adds accounts, reads requests and executions, resets', async () => {
    const admin = (method: string, path: string, body?: unknown) => api(`/_fake${path}`, { method, key: null, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const added = await admin('POST', '/faults', { route: 'tools.list', fault: { type: '5xx' } });
    assert.equal(added.status, 201);
    const listed = await admin('GET', '/faults');
    assert.deepEqual((listed.body as { id: string; route: string }[]).map((f) => [f.id, f.route]), [[(added.body as { id: string }).id, 'tools.list']]);
    assert.equal((await api('/api/v3.1/tools')).status, 503);
    await admin('DELETE', '/faults');
    assert.equal((await api('/api/v3.1/tools')).status, 200);

    const account = await admin('POST', '/accounts', { toolkit: 'github', user_id: 'user-1', id: 'ca_bench_github' });
    assert.deepEqual([account.status, account.body], [201, { id: 'ca_bench_github' }]);
    await h.client.executeTool('GITHUB_CREATE_ISSUE', { arguments: { owner: 'o', repo: 'r', title: 't' }, version: 'latest', connectedAccountId: 'ca_bench_github', idempotencyKey: 'k-1' });
    const executions = await admin('GET', '/executions');
    assert.deepEqual((executions.body as { tool: string; idempotencyKey: string }[]).map((e) => [e.tool, e.idempotencyKey]), [['GITHUB_CREATE_ISSUE', 'k-1']]);
    const requests = await admin('GET', '/requests');
    assert.equal((requests.body as unknown[]).length, 3, 'admin requests are not recorded');

    assert.equal((await admin('POST', '/settings', { expired_account_status: 422 })).status, 200);
    assert.equal((await admin('POST', '/catalog', { version: 3 })).status, 400);
    assert.equal((await admin('POST', '/faults', { fault: { type: 'meteor' } })).status, 400);
    assert.equal((await admin('POST', '/reset')).status, 200);
    assert.equal(h.fake.requests.length, 0);
    assert.equal(h.fake.account('ca_bench_github'), undefined);
    assert.equal((await api('/api/v3.1/tools/execute/HUBSPOT_CREATE_CONTACT', { method: 'POST', body: JSON.stringify({ arguments: { email: 'x' }, connected_account_id: 'ca_demo_hubspot' }) })).status, 410, 'reset restores the 410 default');
  });

  it('close() ends hanging requests and releases the port', async () => {
    const fake = await startFakeComposio();
    fake.inject({ fault: { type: 'hang' } });
    const pending = fetch(`${fake.url}/api/v3.1/tools`, { headers: { 'x-api-key': fake.apiKey } }).then(() => 'answered', () => 'dropped');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await fake.close();
    assert.ok(Date.now() - started < 1000);
    assert.equal(await pending, 'dropped');
    await assert.rejects(fetch(`${fake.url}/api/v3.1/tools`), /fetch failed/);
  });
});
