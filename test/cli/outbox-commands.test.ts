import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';
import { ENGINES } from '../support/engines.ts';

// `steward outbox …` and `steward approvals …` on the demo seed, on both engines.

const DEMO = '11111111-1111-1111-1111-111111111111';
const DRAFT = '44444444-4444-4444-4444-444444444444'; // pending; the demo requires evidence
const SEEDED_WAITING = '44444444-0000-4000-8000-000000000003'; // awaiting_approval
const SEEDED_DLQ = '44444444-0000-4000-8000-000000000005';
const SECOND_PENDING = '77777777-0000-4000-8000-000000000003';

for (const engine of ENGINES) {
  describe(`steward outbox and approvals on ${engine.name}`, () => {
    let target: Target;
    const cli = (...args: string[]) => runCli(args, target.env);
    const json = async <T>(...args: string[]): Promise<T> => {
      const res = await cli(...args);
      assert.ok(res.code === 0 || res.code === 1, `${args.join(' ')}: ${res.stderr}`);
      return JSON.parse(res.stdout) as T;
    };

    before(async () => {
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
      assert.equal((await cli('db', 'migrate')).code, 0);
      assert.equal((await cli('db', 'seed')).code, 0);
      // The demo's quiet hours (22–06 New York) would make these tests depend on the hour.
      const owner = await target.owner();
      try {
        await owner.transaction((tx) => tx.query('update guardrails set quiet_hours = null'));
      } finally {
        await owner.close();
      }
    });
    after(async () => {
      await target.cleanup();
    });

    it('status counts by status and exits 1 while the DLQ exceeds the threshold', async () => {
      const res = await cli('outbox', 'status', '--json');
      assert.equal(res.code, 1, 'the seed has one dead letter; the default threshold is 0');
      const stats = JSON.parse(res.stdout) as { by_status: Record<string, number>; dlq: number; dlq_breached: boolean };
      assert.deepEqual(stats.by_status, { pending: 2, in_progress: 0, awaiting_approval: 1, success: 1, conflict: 1, rejected: 0 });
      assert.equal(stats.dlq, 1);
      assert.equal((await cli('outbox', 'status', '--dlq-threshold', '1')).code, 0);
      const scoped = await json<{ by_status: Record<string, number> }>('outbox', 'status', '--tenant', '77777777-7777-7777-7777-777777777777', '--json');
      assert.equal(scoped.by_status.pending, 1);
      assert.equal((await cli('outbox', 'status', '--dlq-threshold', '-1')).code, 1);
    });

    it('start --once runs one batch and prints each outcome', async () => {
      const res = await cli('outbox', 'start', '--once');
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`${DRAFT} GMAIL__drafts.create .*await_approval → awaiting_approval`));
      assert.match(res.stdout, new RegExp(`${SECOND_PENDING} SLACK__chat.postMessage .*succeed → success`));
      assert.match(res.stdout, /claimed=2 completed=2/);
    });

    it('approvals list, approve and reject; an approved envelope then runs', async () => {
      const waiting = await json<{ id: string }[]>('approvals', 'list', '--json');
      assert.deepEqual(waiting.map((w) => w.id).sort(), [DRAFT, SEEDED_WAITING].sort());
      const approved = await cli('approvals', 'approve', DRAFT, '--reason', 'checked the customer');
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, /: pending/);
      assert.match((await cli('approvals', 'reject', SEEDED_WAITING, '--reason', 'wrong recipient')).stdout, /: rejected/);
      const again = await cli('approvals', 'approve', SEEDED_WAITING);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is rejected, not awaiting_approval \[conflict\]/);
      assert.match((await cli('outbox', 'start', '--once')).stdout, new RegExp(`${DRAFT} .*succeed → success`));
    });

    it('drain and retry-dlq move dead letters back to pending', async () => {
      const missing = await cli('outbox', 'retry-dlq', '--tenant', DEMO, '--envelope', 'aaaaaaaa-0000-4000-8000-00000000000a');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /not found \[not_found, field envelope_id\]/);
      const retried = await cli('outbox', 'retry-dlq', '--tenant', DEMO, '--envelope', SEEDED_DLQ);
      assert.equal(retried.code, 0, retried.stderr);
      assert.deepEqual(await json('outbox', 'drain', '--json'), { drained: 0, ids: [] });
      const stats = await json<{ dlq: number; by_status: Record<string, number> }>('outbox', 'status', '--json');
      assert.equal(stats.dlq, 0);
      assert.equal(stats.by_status.pending, 1);
    });

    it('enqueue from inline JSON is idempotent on external_id; bad input exits 1 naming the field', async () => {
      const envelope = JSON.stringify({ tenant_id: DEMO, tool_slug: 'SLACK__chat.postMessage', arguments: { channel: '#x', text: 'y' }, external_id: 'cli-1' });
      // Too big for a command-line argument: from a file, as a user would.
      const bigFile = join(await mkdtemp(join(tmpdir(), 'steward-enqueue-')), 'big.json');
      await writeFile(bigFile, JSON.stringify({ tenant_id: DEMO, tool_slug: 'X', arguments: { big: 'x'.repeat(300_000) } }));
      const first = await json<{ id: string; created: boolean }[]>('outbox', 'enqueue', envelope, '--json');
      const second = await json<{ id: string; created: boolean }[]>('outbox', 'enqueue', envelope, '--json');
      assert.deepEqual([first[0]!.created, second[0]!.created], [true, false]);
      assert.equal(first[0]!.id, second[0]!.id);
      const cases: [string, RegExp][] = [
        ['{not json', /field envelopes/],
        [JSON.stringify({ tenant_id: 'nope', tool_slug: 'X', arguments: {} }), /field 0\.tenant_id/],
        [JSON.stringify({ tenant_id: DEMO, arguments: {} }), /field 0\.tool_slug/],
        [JSON.stringify({ tenant_id: 'aaaaaaaa-0000-4000-8000-00000000000a', tool_slug: 'X', arguments: {} }), /not_found, field 0\.tenant_id/],
        [`@${bigFile}`, /field 0\.arguments/],
        ['@/no/such/file.json', /field envelopes/],
      ];
      for (const [input, pattern] of cases) {
        const res = await cli('outbox', 'enqueue', input);
        assert.equal(res.code, 1, `${input.slice(0, 60)}: ${res.stderr}`);
        assert.match(res.stderr, pattern, input.slice(0, 60));
      }
      assert.equal((await cli('outbox', 'start', '--concurrency', '0')).code, 2);
    });
  });
}
