import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exitOf, runCli, startCli, waitForOutput } from '../support/cli.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';
import { ENGINES } from '../support/engines.ts';
import { startCollector, valueOf, type FakeCollector } from './otlp-collector.ts';

// The worker commands as an operator runs them: JSON logs on stderr with each outcome's
// tenant and envelope, the human report on stdout unchanged, and the metrics pushed to
// an OTLP endpoint named by the standard variables, on the interval and on exit.

const DEMO = '11111111-1111-1111-1111-111111111111';
const SECOND = '77777777-7777-7777-7777-777777777777';
const DRAFT = '44444444-4444-4444-4444-444444444444'; // pending; the demo requires evidence → awaiting_approval
const SECOND_PENDING = '77777777-0000-4000-8000-000000000003'; // pending; runs → success
const TOKEN = 'Bearer t0ken-for-the-collector';

const parseLines = (stderr: string): Record<string, unknown>[] =>
  stderr.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`stderr line is not JSON: ${l}`);
    }
  });

for (const engine of ENGINES) {
  describe(`worker telemetry from the CLI on ${engine.name}`, () => {
    let target: Target;
    let collector: FakeCollector;
    before(async () => {
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
      collector = await startCollector();
      assert.equal((await runCli(['db', 'migrate'], target.env)).code, 0);
      assert.equal((await runCli(['db', 'seed'], target.env)).code, 0);
      // The demo's quiet hours (22–06 New York) would make the outcomes depend on the hour.
      const owner = await target.owner();
      try {
        await owner.transaction((tx) => tx.query('update guardrails set quiet_hours = null'));
      } finally {
        await owner.close();
      }
    });
    after(async () => {
      await collector.close();
      await target.cleanup();
    });

    it('outbox start --once: JSON logs with tenant and envelope ids on stderr, and one OTLP export on exit', async () => {
      const res = await runCli(['outbox', 'start', '--once'], {
        ...target.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=${TOKEN}`,
        OTEL_SERVICE_NAME: 'steward-cli-test',
      });
      assert.equal(res.code, 0, res.stderr);
      // stdout: what people read, as before.
      assert.match(res.stdout, new RegExp(`${SECOND_PENDING} SLACK__chat.postMessage \\(tenant ${SECOND}\\): succeed → success`));
      assert.match(res.stdout, /claimed=2 completed=2/);

      // stderr: JSON lines, one per outcome.
      const records = parseLines(res.stderr);
      const outcome = (id: string) => records.find((r) => r.msg === 'outbox outcome' && r.envelope_id === id);
      assert.deepEqual(
        ['tenant_id', 'tool_slug', 'transition', 'from', 'to', 'attempt', 'level'].map((k) => outcome(SECOND_PENDING)?.[k]),
        [SECOND, 'SLACK__chat.postMessage', 'succeed', 'in_progress', 'success', 1, 'info'],
      );
      assert.deepEqual(['tenant_id', 'transition', 'to', 'guardrail'].map((k) => outcome(DRAFT)?.[k]), [DEMO, 'await_approval', 'awaiting_approval', 'evidence']);
      assert.ok(records.every((r) => typeof r.worker_id === 'string' || r.msg !== 'outbox outcome'));
      assert.ok(records.some((r) => r.msg === 'OTLP metrics export on' && r.url === `${collector.url}/v1/metrics`), res.stderr);
      // Nothing secret: not the collector's token, not the database password.
      assert.doesNotMatch(res.stderr + res.stdout, /t0ken/);
      const password = target.env.DATABASE_URL ? new URL(target.env.DATABASE_URL).password : '';
      if (password) assert.ok(!res.stderr.includes(`:${password}@`), 'no DATABASE_URL password');

      // The collector: one export (the interval is the default 60 s), made on the way out.
      assert.equal(collector.exports.length, 1);
      const [e] = collector.exports;
      assert.equal(e!.headers.authorization, TOKEN);
      assert.equal(e!.resource['service.name'], 'steward-cli-test');
      assert.equal(valueOf(e!, 'outbox_processed_total', { tenant: SECOND, status: 'success' }), 1);
      assert.equal(valueOf(e!, 'outbox_attempts_total', { tenant: SECOND }), 1);
      assert.equal(valueOf(e!, 'guardrail_decisions_total', { guardrail: 'evidence', decision: 'await_approval' }), 1);
      assert.equal(valueOf(e!, 'guardrail_decisions_total', { guardrail: 'none', decision: 'execute' }), 1);
      assert.equal(valueOf(e!, 'outbox_processed_per_minute'), 1);
      // The seed's dead letter, read from the database by the final export.
      assert.deepEqual([valueOf(e!, 'outbox_dlq_size', { tenant: DEMO }), valueOf(e!, 'outbox_dlq_size', { tenant: SECOND })], [1, 0]);
    });

    it('start: exports on the interval while it runs, and once more on Ctrl-C', async () => {
      collector.exports.length = 0;
      const child = startCli(['start', '--metrics-port', '0', '--port', '0'], { ...target.env, STEWARD_JWT_SECRET: 'steward-test-secret-0123456789-abcdefghij', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_METRIC_EXPORT_INTERVAL: '500' });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = exitOf(child);
      const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
      assert.match(out, new RegExp(`^ {2}otlp: metrics to ${collector.url}/v1/metrics every 0\\.5 s$`, 'm'));
      const worker = /outbox worker (\S+) running/.exec(out)?.[1];
      assert.ok(worker, out);
      await collector.waitFor((e) => valueOf(e, 'outbox_running', { worker }) === 0);
      const whileRunning = collector.exports.length;
      child.kill('SIGINT');
      const { code, stdout } = await exited;
      assert.equal(code, 0, stderr);
      assert.match(stdout, /Stopped; data dir closed\./);
      assert.ok(collector.exports.length > whileRunning, 'an export on the way out');
      const records = parseLines(stderr);
      assert.deepEqual(records.filter((r) => r.worker_id === worker).map((r) => r.msg), ['outbox worker started', 'outbox worker stopped']);
      // Nothing went wrong (an export timing out on a loaded machine aside: the next one
      // carries the same cumulative values).
      assert.ok(!records.some((r) => (r.level === 'error' || r.level === 'warn') && !/timed out/.test(String(r.msg))), stderr);
    });

    it('a gRPC protocol setting is refused before anything runs, naming the variable', async () => {
      const res = await runCli(['outbox', 'start', '--once'], { ...target.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /OTEL_EXPORTER_OTLP_PROTOCOL: Steward exports OTLP over HTTP \(JSON\).*\[config_invalid, field OTEL_EXPORTER_OTLP_PROTOCOL\]/);
    });
  });
}
