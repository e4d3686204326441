import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli, waitForOutput } from '../support/cli.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';
import { ENGINES } from '../support/engines.ts';
import { startFakeComposio, type FakeComposio } from '../fakes/composio/index.ts';

// `steward catalog …`, `steward accounts …` and the worker's executor choice, against the
// fake Composio over real HTTP, on the demo seed, on both engines.

const DEMO = '11111111-1111-1111-1111-111111111111';
const DEMO_GMAIL_ACCOUNT = '66666666-6666-6666-6666-666666666666';
const KEY = 'ak_cli_test_key_0123456789';

for (const engine of ENGINES) {
  describe(`steward catalog and accounts on ${engine.name}`, () => {
    let target: Target;
    let fake: FakeComposio;
    const env = () => ({ ...target.env, COMPOSIO_API_KEY: KEY, COMPOSIO_BASE_URL: fake.url });
    const cli = (...args: string[]) => runCli(args, env());
    const json = async <T>(...args: string[]): Promise<T> => {
      const res = await cli(...args);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      return JSON.parse(res.stdout) as T;
    };

    before(async () => {
      fake = await startFakeComposio({ apiKey: KEY });
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
      assert.equal((await runCli(['db', 'migrate'], target.env)).code, 0);
      assert.equal((await runCli(['db', 'seed'], target.env)).code, 0);
    });
    after(async () => {
      await target.cleanup();
      await fake.close();
    });

    it('catalog sync imports the linked toolkits with progress, and a second sync changes nothing', async () => {
      const first = await cli('catalog', 'sync', '--tenant', DEMO);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /gmail: page 1/);
      assert.match(first.stdout, /gmail: done, \d+ tool\(s\)/);
      const entries = await json<{ tool_slug: string }[]>('catalog', 'list', '--tenant', DEMO, '--json');
      assert.ok(entries.some((e) => e.tool_slug === 'GMAIL_SEND_EMAIL'), JSON.stringify(entries.map((e) => e.tool_slug)));

      const again = await json<{ toolkits: { added: number; changed: number; removed: number }[] }>('catalog', 'sync', '--tenant', DEMO, '--json');
      assert.ok(again.toolkits.length > 0);
      for (const t of again.toolkits) assert.deepEqual([t.added, t.changed, t.removed], [0, 0, 0]);
      assert.deepEqual(await json('catalog', 'drift', '--tenant', DEMO, '--json'), []);
    });

    it('a schema change at Composio shows in catalog drift, breaking ones flagged', async () => {
      fake.setCatalogVersion(2);
      try {
        assert.equal((await cli('catalog', 'sync', '--tenant', DEMO, '--toolkit', 'gmail')).code, 0);
        const drift = await json<{ tool_slug: string; change: string; breaking: boolean }[]>('catalog', 'drift', '--tenant', DEMO, '--breaking', '--json');
        assert.ok(drift.some((d) => d.tool_slug === 'GMAIL_SEND_EMAIL' && d.change === 'changed' && d.breaking), JSON.stringify(drift));
      } finally {
        fake.setCatalogVersion(1);
      }
    });

    it('accounts list, refresh and revoke go through Composio and are reported', async () => {
      const listed = await json<{ id: string; status: string }[]>('accounts', 'list', '--tenant', DEMO, '--json');
      assert.equal(listed.find((a) => a.id === DEMO_GMAIL_ACCOUNT)?.status, 'active');
      fake.expireAccount('ca_demo_gmail');
      const refreshed = await cli('accounts', 'refresh', '--account', DEMO_GMAIL_ACCOUNT);
      assert.equal(refreshed.code, 0, refreshed.stderr);
      assert.match(refreshed.stdout, /gmail .*active → expired/);
      const revoked = await json<{ account: { status: string }; changed: boolean }>('accounts', 'revoke', '--account', DEMO_GMAIL_ACCOUNT, '--reason', 'test', '--json');
      assert.deepEqual([revoked.account.status, revoked.changed], ['revoked', true]);
    });

    it('commands that need Composio say so without a key, naming the variable (exit 1)', async () => {
      const res = await runCli(['catalog', 'sync'], target.env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /COMPOSIO_API_KEY is not set/);
      assert.doesNotMatch(res.stderr + res.stdout, new RegExp(KEY));
    });

    it('the worker runs Composio with a key and names its executor; the key never appears in its output', async () => {
      const child = startCli(['outbox', 'start', '--no-metrics'], env());
      try {
        const out = await waitForOutput(child, /running \(executor composio \(http:\/\/127\.0\.0\.1:\d+\)/);
        assert.doesNotMatch(out, new RegExp(KEY));
      } finally {
        child.kill('SIGINT');
        await new Promise((resolve) => child.on('close', resolve));
      }
    });
  });
}

describe('steward dev fake-composio', () => {
  it('serves the fake on the given port until Ctrl-C, and says how to point Steward at it', async () => {
    const child = startCli(['dev', 'fake-composio', '--port', '0']);
    try {
      const out = await waitForOutput(child, /Press Ctrl-C/);
      const url = /fake Composio on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      assert.ok(url, out);
      assert.match(out, /COMPOSIO_BASE_URL=/);
      const res = await fetch(`${url}/api/v3.1/toolkits`, { headers: { 'x-api-key': 'ak_fake_composio_key' } });
      assert.equal(res.status, 200);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.on('close', resolve));
    }
  });
});
