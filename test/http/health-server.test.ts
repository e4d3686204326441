import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthHandlers, startHealthServer, type HealthSources } from '../../src/http/health-server.ts';

// The listener on its own, with stand-in sources: each way /healthz can fail, the routes,
// and a failing scrape. The worker and a real database are in test/worker/outbox-metrics.

async function withServer(sources: HealthSources, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await startHealthServer(createHealthHandlers(sources), { port: 0 });
  try {
    assert.ok(server.port > 0, 'port 0 binds a free port');
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    await fn(server.url);
  } finally {
    await server.close();
  }
}

const metrics = { metrics: () => Promise.resolve('up 1\n') };
const ok = () => Promise.resolve();

describe('health server', () => {
  it('/healthz is 200 only when the loop is alive and the database answers; 503 names the failing part', async () => {
    const errors: unknown[] = [];
    const boom = new Error('connection refused');
    const cases: [Partial<HealthSources>, number, Record<string, string>][] = [
      [{ isAlive: () => true, pingDatabase: ok }, 200, { status: 'ok', worker: 'running', database: 'ok' }],
      [{ isAlive: () => false, pingDatabase: ok }, 503, { status: 'unavailable', worker: 'stopped', database: 'ok' }],
      [{ isAlive: () => true, pingDatabase: () => Promise.reject(boom) }, 503, { status: 'unavailable', worker: 'running', database: 'error' }],
      [{ isAlive: () => true, pingDatabase: () => new Promise(() => undefined), databaseTimeoutMs: 50 }, 503, { status: 'unavailable', worker: 'running', database: 'timeout' }],
      [{ pingDatabase: ok }, 200, { status: 'ok', worker: 'off', database: 'ok' }], // no worker in this process
    ];
    for (const [sources, status, body] of cases) {
      await withServer({ metrics, pingDatabase: ok, onError: (e) => errors.push(e), ...sources }, async (url) => {
        const res = await fetch(`${url}/healthz`);
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(res.headers.get('content-type'), 'application/json');
        assert.deepEqual(await res.json(), body);
      });
    }
    assert.deepEqual(errors, [boom], 'the ping error is reported, not sent to the caller');
  });

  it('/metrics serves the text as Prometheus 0.0.4; other paths 404, other methods 405, HEAD has no body', async () => {
    await withServer({ metrics, isAlive: () => true, pingDatabase: ok }, async (url) => {
      const res = await fetch(`${url}/metrics?x=1`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(await res.text(), 'up 1\n');
      for (const path of ['/', '/metrics/', '/healthzz', '/api/metrics']) {
        const other = await fetch(`${url}${path}`);
        assert.equal(other.status, 404, path);
        await other.body?.cancel();
      }
      const post = await fetch(`${url}/metrics`, { method: 'POST' });
      assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET, HEAD']);
      await post.body?.cancel();
      const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
      assert.deepEqual([head.status, await head.text()], [200, '']);
    });
  });

  it('a scrape that fails is a 500 and is reported', async () => {
    const errors: unknown[] = [];
    const broken = { metrics: () => Promise.reject(new Error('collect failed')) };
    await withServer({ metrics: broken, pingDatabase: ok, onError: (e) => errors.push(e) }, async (url) => {
      const res = await fetch(`${url}/metrics`);
      assert.deepEqual([res.status, await res.text()], [500, 'internal error\n']);
    });
    assert.match(String(errors[0]), /collect failed/);
  });

  it('a port in use is refused with EADDRINUSE', async () => {
    const first = await startHealthServer(createHealthHandlers({ metrics, pingDatabase: ok }), { port: 0 });
    try {
      await assert.rejects(startHealthServer(createHealthHandlers({ metrics, pingDatabase: ok }), { port: first.port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});
