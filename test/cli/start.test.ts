import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitOf, runCli, startCli, waitForOutput } from '../support/cli.ts';
import { TEST_DATABASE_URL, scratchPostgresDatabase } from '../support/engines.ts';
import { MIGRATIONS_DIR, readSqlFiles } from '../../src/db/sql-files.ts';

const MIGRATIONS = (await readSqlFiles(MIGRATIONS_DIR)).map((f) => f.name);
/** On PostgreSQL the API server needs a shared secret (test/cli/api.test.ts covers its absence). */
const SECRET = 'steward-test-secret-0123456789-abcdefghij';

// `steward start` on the embedded default, as a newcomer runs it (npm start).
describe('steward start (embedded)', () => {
  let root: string;
  let dataDir: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'steward-start-'));
    dataDir = join(root, 'data');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('first run: prints the data dir, the applied migrations and the seeded tenants; Ctrl-C exits 0', async () => {
    const first = startCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', '0']);
    const exited = exitOf(first);
    const out = await waitForOutput(first, /Ready\. Press Ctrl-C/);
    assert.match(out, new RegExp(`data dir: ${dataDir}`));
    for (const m of MIGRATIONS) assert.match(out, new RegExp(`migration applied: ${m}`));
    assert.match(out, /seeded: 000_demo_tenant\.sql/);
    // Which executor and which scheduler run, said up front.
    assert.match(out, /outbox worker \S+ running \(executor sandbox \(no COMPOSIO_API_KEY\)\)/);
    assert.match(out, /scheduler \S+: in-process, \d+ job\(s\), leading/);
    // /metrics and /healthz are served while it runs (the port printed, as 0 asked any).
    const url = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics, health: \1\/healthz/.exec(out)?.[1];
    assert.ok(url, out);
    const health = await fetch(`${url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok', worker: 'running', database: 'ok' }]);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^# TYPE outbox_processed_total counter$/m);
    assert.match(out, /11111111-1111-1111-1111-111111111111 {2}Demo Tenant/);
    assert.match(out, /77777777-7777-7777-7777-777777777777 {2}Second Tenant/);

    // A second process on the same data dir is refused, naming the first one's pid.
    const second = await runCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', '0']);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`in use by another Steward process \\(pid ${first.pid}\\)`));

    first.kill('SIGINT');
    const { code, stdout } = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /Stopped; data dir closed\./);
  });

  it('second run: reopens the same data, applies nothing and does not seed again', async () => {
    const again = startCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', '0']);
    const exited = exitOf(again);
    const out = await waitForOutput(again, /Ready\. Press Ctrl-C/);
    assert.match(out, new RegExp(`migrations: up to date \\(${MIGRATIONS.length} applied\\)`));
    assert.match(out, /seed: loaded on an earlier run; not loaded again/);
    assert.match(out, /tenants \(2\):/);
    again.kill('SIGTERM');
    assert.equal((await exited).code, 0);
  });

  it('a repeated signal during shutdown still stops cleanly (npm start forwards Ctrl-C a second time)', async () => {
    const child = startCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', '0']);
    const exited = exitOf(child);
    await waitForOutput(child, /Ready\. Press Ctrl-C/);
    child.kill('SIGINT');
    child.kill('SIGINT');
    const { code, stdout } = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /Stopped; data dir closed\./);
    assert.equal(existsSync(`${dataDir}.lock`), false, 'the lock file is removed');
  });

  it('the data is intact after the refused second start: tenants, envelopes and an unbroken audit chain', async () => {
    const tenants = await runCli(['tenants', 'list', '--json', '--data-dir', dataDir]);
    assert.equal(tenants.code, 0, tenants.stderr);
    assert.deepEqual((JSON.parse(tenants.stdout) as { name: string }[]).map((t) => t.name).sort(), ['Demo Tenant', 'Second Tenant']);
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /audit log intact/);
  });
});

// On a server, start migrates but loads the demo seed only when asked (--seed).
if (TEST_DATABASE_URL) {
  describe('steward start (PostgreSQL)', () => {
    let scratch: { url: string; drop(): Promise<void> };
    before(async () => {
      scratch = await scratchPostgresDatabase(TEST_DATABASE_URL!);
    });
    after(async () => {
      await scratch.drop();
    });

    it('migrates, does not seed without --seed, and stops on SIGINT', async () => {
      const child = startCli(['start', '--metrics-port', '0', '--port', '0'], { DATABASE_URL: scratch.url, STEWARD_JWT_SECRET: SECRET });
      const exited = exitOf(child);
      const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
      assert.match(out, /Steward on PostgreSQL: postgresql:\/\/steward:\*\*\*@/, 'the password is not printed');
      assert.match(out, new RegExp(`migration applied: ${MIGRATIONS.at(-1)!}`));
      assert.doesNotMatch(out, /seeded/);
      assert.match(out, /tenants \(0\):/);
      child.kill('SIGINT');
      assert.equal((await exited).code, 0);
    });

    it('with --seed, loads the demo seed on the first run', async () => {
      const child = startCli(['start', '--seed', '--no-metrics', '--port', '0'], { DATABASE_URL: scratch.url, STEWARD_JWT_SECRET: SECRET });
      const exited = exitOf(child);
      const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
      assert.match(out, /migrations: up to date/);
      assert.match(out, /seeded: 000_demo_tenant\.sql/);
      assert.match(out, /tenants \(2\):/);
      assert.match(out, /metrics: off \(--no-metrics\)/);
      child.kill('SIGINT');
      assert.equal((await exited).code, 0);
    });
  });
}
