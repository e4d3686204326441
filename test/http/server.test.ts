import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer, type ApiServer } from '../../src/http/server.ts';
import { forEachEngine } from '../support/engines.ts';
import { TEST_JWT_SECRET } from '../support/api.ts';
import { mintToken, projectKeys } from '../../src/http/auth/tokens.ts';

// The server around the REST surface: the health routes it mounts, the 404 for other
// paths, CORS, body limits, schema reloads and a graceful close.

forEachEngine('API server', (db, engine) => {
  let server: ApiServer;
  let service: Record<string, string>;
  before(async () => {
    server = await startApiServer({
      db: db().db,
      jwtSecret: TEST_JWT_SECRET,
      port: 0,
      bodyLimit: 64 * 1024,
      health: { metrics: { metrics: () => Promise.resolve('up 1\n') }, pingDatabase: () => Promise.resolve() },
    });
    service = { apikey: (await projectKeys(TEST_JWT_SECRET)).serviceRoleKey };
  });
  after(async () => {
    await server.close();
  });

  it('mounts /healthz and /metrics (the worker\'s handler, unauthenticated)', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok', worker: 'off', database: 'ok' }]);
    const metrics = await fetch(`${server.url}/metrics`);
    assert.deepEqual([metrics.status, await metrics.text()], [200, 'up 1\n']);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  it('answers other paths and methods with PostgREST-shaped errors', async () => {
    for (const path of ['/', '/rest/v2/objectives', '/rest/v1/objectives/1', '/auth/v1/user']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { code: 'PGRST125', message: 'Invalid path specified in request URL', details: null, hint: null });
    }
    const put = await fetch(`${server.url}/rest/v1/objectives`, { method: 'PUT', headers: { ...service, 'Content-Type': 'application/json' }, body: '{}' });
    assert.deepEqual([put.status, (await put.json() as { code: string }).code], [405, 'PGRST117']);
  });

  it('a body over the limit is 413 with PostgREST\'s body', async () => {
    const res = await fetch(`${server.url}/rest/v1/objectives`, { method: 'POST', headers: { ...service, 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'x'.repeat(100 * 1024) }) });
    assert.equal(res.status, 413);
    const body = await res.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'hint', 'message']);
  });

  it('answers CORS preflights before authentication and exposes Content-Range', async () => {
    const preflight = await fetch(`${server.url}/rest/v1/objectives`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'apikey, authorization, prefer' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'apikey, authorization, prefer');
    const get = await fetch(`${server.url}/rest/v1/tenants?select=id`, { headers: { ...service, Origin: 'http://localhost:3000' } });
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /Content-Range/);
    await get.body?.cancel();
  });

  it('reloads its schema cache on NOTIFY pgrst, \'reload schema\' (and on refresh())', async () => {
    const missing = await fetch(`${server.url}/rest/v1/rest_test_later`, { headers: service });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    await db().owner.transaction(async (tx) => {
      await tx.exec(`create table public.rest_test_later (id int primary key); alter table public.rest_test_later enable row level security;
        grant select on public.rest_test_later to service_role; notify pgrst, 'reload schema';`);
    });
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const res = await fetch(`${server.url}/rest/v1/rest_test_later`, { headers: service });
      status = res.status;
      await res.body?.cancel();
      if (status !== 200) await sleep(50);
    }
    assert.equal(status, 200);
    await db().owner.transaction((tx) => tx.exec('drop table public.rest_test_later'));
    await server.catalog.refresh();
    const gone = await fetch(`${server.url}/rest/v1/rest_test_later`, { headers: service });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });

  it('closes gracefully: a request in flight finishes, new ones are refused', async () => {
    await db().owner.transaction((tx) => tx.exec(`create function public.rest_test_sleep(seconds float) returns void language sql as $$ select pg_sleep(seconds) $$`));
    const closing = await startApiServer({ db: db().db, jwtSecret: TEST_JWT_SECRET, port: 0 });
    const token = await mintToken(TEST_JWT_SECRET, { role: 'service_role', ttlSeconds: 60 });
    const inFlight = fetch(`${closing.url}/rest/v1/rpc/rest_test_sleep`, { method: 'POST', headers: { apikey: token, 'Content-Type': 'application/json' }, body: '{"seconds": 0.5}' })
      .then((res) => ({ status: res.status, at: Date.now() }));
    await sleep(150);
    const started = Date.now();
    await closing.close();
    const closedAt = Date.now();
    const { status, at } = await inFlight;
    assert.equal(status, 204, 'the request in flight was answered');
    // PGlite runs pg_sleep on the event loop, so there the request has ended before close() is even called.
    if (engine === 'postgres') assert.ok(closedAt - started >= 250, 'close() waited for the request in flight');
    assert.ok(Math.abs(closedAt - at) < 2000, 'and returned with it, not after a keep-alive timeout');
    await assert.rejects(fetch(`${closing.url}/healthz`));
  });
});
