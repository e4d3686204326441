import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exitOf, runCli, startCli, waitForOutput } from '../support/cli.ts';
import { embeddedTarget, type Target } from '../support/cli-targets.ts';

// `steward outbox start` serving /metrics and /healthz, and refusing a busy or bad port.
// Embedded only: the listener does not depend on the engine (test/worker/outbox-metrics
// covers both).

describe('steward outbox start: metrics listener', () => {
  let target: Target;
  before(async () => {
    target = await embeddedTarget();
  });
  after(async () => {
    await target.cleanup();
  });

  it('serves /healthz and /metrics on the printed URL while it runs', async () => {
    const child = startCli(['outbox', 'start', '--metrics-port', '0'], target.env);
    const exited = exitOf(child);
    const out = await waitForOutput(child, /Press Ctrl-C to stop/);
    const url = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics, health: \1\/healthz/.exec(out)?.[1];
    assert.ok(url, out);
    const health = await fetch(`${url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok', worker: 'running', database: 'ok' }]);
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(await metrics.text(), /^outbox_running\{worker="[^"]+"\} 0$/m);
    child.kill('SIGINT');
    assert.equal((await exited).code, 0);
  });

  it('a port in use ends the command with exit 1 and the ways out', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const res = await runCli(['outbox', 'start', '--metrics-port', String(port)], target.env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, new RegExp(`metrics port 127\\.0\\.0\\.1:${port} is in use; choose another with --metrics-port, or --no-metrics`));
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('a port out of range is a usage error', async () => {
    const res = await runCli(['outbox', 'start', '--metrics-port', '70000'], target.env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /metrics-port must be a port number 0–65535/);
  });
});
