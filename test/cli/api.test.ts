import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { JWT_SECRET_FILE } from '../../src/http/auth/jwt-secret.ts';
import { exitOf, runCli, startCli, waitForOutput } from '../support/cli.ts';
import { TEST_DATABASE_URL, scratchPostgresDatabase } from '../support/engines.ts';

// The API from the command line: `steward tokens mint`, `steward serve`, and the API
// part of `steward start` (its URL and keys in the banner).

const DEMO = '11111111-1111-1111-1111-111111111111';
const SECOND = '77777777-7777-7777-7777-777777777777';
const SECRET = 'steward-test-secret-0123456789-abcdefghij';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

async function tenantsSeen(api: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${api}/rest/v1/tenants?select=id&order=id`, { headers });
  return { status: res.status, body: await res.json() };
}

describe('the API on an embedded data dir', () => {
  let root: string;
  let dataDir: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'steward-api-'));
    dataDir = join(root, 'data');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tokens mint: a tenant token signed with a secret generated once into the data dir (0600)', async () => {
    const res = await runCli(['tokens', 'mint', '--tenant', DEMO, '--scopes', 'guardrails:write, reports:read', '--sub', 'user-1', '--json', '--data-dir', dataDir]);
    assert.equal(res.code, 0, res.stderr);
    const { token } = JSON.parse(res.stdout) as { token: string };
    assert.deepEqual(Object.keys(JSON.parse(res.stdout) as object), ['token']);
    const secretFile = join(dataDir, JWT_SECRET_FILE);
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(readFileSync(secretFile, 'utf8')), { algorithms: ['HS256'] });
    assert.deepEqual({ ...payload, iat: 0, exp: payload.exp! - payload.iat! }, { role: 'authenticated', tenant_id: DEMO, sub: 'user-1', scopes: ['guardrails:write', 'reports:read'], iss: 'steward', iat: 0, exp: 3600 });

    const service = await runCli(['tokens', 'mint', '--role', 'service_role', '--ttl', '5m', '--data-dir', dataDir]);
    assert.equal(service.code, 0, service.stderr);
    const claims = claimsOf(service.stdout.trim());
    assert.deepEqual([claims.role, (claims.exp as number) - (claims.iat as number), claims.tenant_id], ['service_role', 300, undefined]);
    const again = await runCli(['tokens', 'mint', '--tenant', DEMO, '--data-dir', dataDir]);
    await jwtVerify(again.stdout.trim(), new TextEncoder().encode(readFileSync(secretFile, 'utf8')));
  });

  it('tokens mint refuses what the server would refuse, naming the option', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--json'], 1, /an authenticated token needs --tenant.*\[invalid_input, field tenant\]/],
      [['--role', 'service_role', '--tenant', DEMO], 1, /names no tenant; drop --tenant/],
      [['--tenant', 'not-a-uuid'], 1, /--tenant must be a uuid/],
      [['--role', 'postgres', '--tenant', DEMO], 2, /role must be one of anon, authenticated, service_role/],
      [['--tenant', DEMO, '--ttl', '2y'], 2, /ttl must be a duration/],
    ];
    for (const [args, code, message] of cases) {
      const res = await runCli(['tokens', 'mint', ...args, '--data-dir', dataDir]);
      assert.equal(res.code, code, args.join(' '));
      assert.match(res.stderr, message);
    }
  });

  it('start: serves the API, prints its URL and the anon and service_role keys; minted tokens work while it runs', async () => {
    const child = startCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', '0']);
    const exited = exitOf(child);
    const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
    const api = /API: (http:\/\/127\.0\.0\.1:\d+) \(REST: \1\/rest\/v1; health: \1\/healthz, metrics: \1\/metrics\)/.exec(out)?.[1];
    assert.ok(api, out);
    const anonKey = /anon key: (\S+)/.exec(out)?.[1];
    const serviceKey = /service_role key: (\S+)/.exec(out)?.[1];
    assert.ok(anonKey && serviceKey, out);
    assert.deepEqual([claimsOf(anonKey).role, claimsOf(serviceKey).role], ['anon', 'service_role']);
    assert.match(out, /publishable key: sb_publishable_\S+/);
    assert.match(out, /secret key: sb_secret_\S+/);

    assert.deepEqual(await tenantsSeen(api, { apikey: serviceKey }), { status: 200, body: [{ id: DEMO }, { id: SECOND }] });
    assert.equal((await tenantsSeen(api, { apikey: anonKey })).status, 401);
    const minted = await runCli(['tokens', 'mint', '--tenant', SECOND, '--data-dir', dataDir]);
    assert.equal(minted.code, 0, minted.stderr);
    assert.deepEqual(await tenantsSeen(api, { apikey: anonKey, Authorization: `Bearer ${minted.stdout.trim()}` }), { status: 200, body: [{ id: SECOND }] });
    const health = await fetch(`${api}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok', worker: 'running', database: 'ok' });

    child.kill('SIGINT');
    const { code, stdout } = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /Stopped; data dir closed\./);
  });

  it('start: an API port in use stops it with the option to change, before the worker runs', async () => {
    const blocker = startCli(['serve', '--data-dir', join(root, 'other'), '--port', '0']);
    const blockerExit = exitOf(blocker);
    const port = /API: http:\/\/127\.0\.0\.1:(\d+)/.exec(await waitForOutput(blocker, /Ready\./))?.[1];
    assert.ok(port);
    const res = await runCli(['start', '--data-dir', dataDir, '--metrics-port', '0', '--port', port]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`API port 127\\.0\\.0\\.1:${port} is in use; choose another with --port \\[config_invalid, field port\\]`));
    assert.doesNotMatch(res.stdout, /outbox worker \S+ running/);
    blocker.kill('SIGTERM');
    assert.equal((await blockerExit).code, 0);
  });

  it('serve: the API alone (no worker, no keys printed); Ctrl-C lets it finish', async () => {
    const child = startCli(['serve', '--data-dir', dataDir, '--port', '0']);
    const exited = exitOf(child);
    const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
    const api = /API: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(api, out);
    assert.doesNotMatch(out, /key:/);
    const token = (await runCli(['tokens', 'mint', '--tenant', DEMO, '--data-dir', dataDir])).stdout.trim();
    assert.deepEqual(await tenantsSeen(api, { Authorization: `Bearer ${token}` }), { status: 200, body: [{ id: DEMO }] });
    assert.deepEqual(await (await fetch(`${api}/healthz`)).json(), { status: 'ok', worker: 'off', database: 'ok' });
    child.kill('SIGINT');
    const { code, stdout } = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /Stopping \(SIGINT\)…\nStopped\.\n$/);
  });
});

if (TEST_DATABASE_URL) {
  describe('the API on PostgreSQL', () => {
    let scratch: { url: string; drop(): Promise<void> };
    before(async () => {
      scratch = await scratchPostgresDatabase(TEST_DATABASE_URL!);
    });
    after(async () => {
      await scratch.drop();
    });

    it('refuses to serve, start or mint without STEWARD_JWT_SECRET, or with a short one, naming the variable', async () => {
      for (const args of [['serve', '--port', '0'], ['start', '--port', '0', '--no-metrics'], ['tokens', 'mint', '--tenant', DEMO]]) {
        const missing = await runCli(args, { DATABASE_URL: scratch.url });
        assert.equal(missing.code, 1, args[0]);
        assert.match(missing.stderr, /STEWARD_JWT_SECRET is not set: on PostgreSQL \(DATABASE_URL\) the API server needs the secret.*\[config_invalid, field STEWARD_JWT_SECRET\]/);
        const short = await runCli(args, { DATABASE_URL: scratch.url, STEWARD_JWT_SECRET: 'too-short' });
        assert.equal(short.code, 1, args[0]);
        assert.match(short.stderr, /STEWARD_JWT_SECRET must be at least 32 characters \(it has 9\)/);
      }
    });

    it('serve refuses pending migrations; after db migrate it serves tokens minted with the same secret', async () => {
      const env = { DATABASE_URL: scratch.url, STEWARD_JWT_SECRET: SECRET };
      const pending = await runCli(['serve', '--port', '0'], env);
      assert.equal(pending.code, 1);
      assert.match(pending.stderr, /pending migration\(s\).*run: steward db migrate \[migrations_pending\]/);
      assert.equal((await runCli(['db', 'migrate'], env)).code, 0);
      assert.equal((await runCli(['db', 'seed'], env)).code, 0);
      const child = startCli(['serve', '--port', '0'], env);
      const exited = exitOf(child);
      const out = await waitForOutput(child, /Ready\. Press Ctrl-C/);
      assert.match(out, /Steward API on PostgreSQL: postgresql:\/\/steward:\*\*\*@/);
      const api = /API: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      assert.ok(api, out);
      const token = (await runCli(['tokens', 'mint', '--tenant', SECOND], env)).stdout.trim();
      assert.deepEqual(await tenantsSeen(api, { Authorization: `Bearer ${token}` }), { status: 200, body: [{ id: SECOND }] });
      child.kill('SIGTERM');
      assert.equal((await exited).code, 0);
    });
  });
}
