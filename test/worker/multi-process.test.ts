import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SqlOutboxService } from '../../src/services/outbox-service.ts';
import { serviceAccess } from '../../src/services/access.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { startCli, waitForOutput } from '../support/cli.ts';
import { ENGINES, type TestDatabase } from '../support/engines.ts';
import { sleep } from '../support/scripted-executor.ts';

// Several real `steward outbox start` processes on one PostgreSQL database: per-tenant
// serialization across processes, and SIGKILLs in the middle of a run. PGlite is one
// process by construction (its data dir is locked), so this file runs on PostgreSQL only.

const TENANTS = 50;
const PER_TENANT = 100;

for (const engine of ENGINES.filter((e) => e.name === 'postgres')) {
  describe(`several worker processes on ${engine.name}`, () => {
    let test: TestDatabase;
    const workers = new Set<ChildProcessWithoutNullStreams>();
    before(async () => {
      test = await engine.open();
    });
    after(async () => {
      for (const w of workers) w.kill('SIGKILL');
      await test.close();
    });

    /** Fresh tenants (no guardrails row: only scopes are checked, and the tool needs none). */
    async function load(prefix: string): Promise<string[]> {
      const tenants = new SqlTenantService(serviceAccess(test.db));
      const outbox = new SqlOutboxService(serviceAccess(test.db));
      const ids: string[] = [];
      for (let t = 0; t < TENANTS; t++) {
        const id = `${prefix}-0000-4000-8000-${String(t).padStart(12, '0')}`;
        await tenants.create({ id, name: `${prefix} ${t}` });
        ids.push(id);
      }
      const envelopes = ids.flatMap((tenant_id) => Array.from({ length: PER_TENANT }, (_, i) => ({
        tenant_id, tool_slug: 'SLACK__chat.postMessage', arguments: { channel: '#load', text: `m${i}` },
      })));
      for (let i = 0; i < envelopes.length; i += 1000) await outbox.enqueueMany(envelopes.slice(i, i + 1000));
      return ids;
    }

    function spawnWorker(extra: string[] = []): ChildProcessWithoutNullStreams {
      const w = startCli(['outbox', 'start', '--concurrency', '8', '--batch', '20', '--no-metrics', ...extra], { DATABASE_URL: test.url! });
      workers.add(w);
      w.on('close', () => workers.delete(w));
      return w;
    }

    async function untilSettled(tenants: string[], timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const open = (await test.owner.transaction((tx) => tx.query<{ n: number }>(
          `select count(*)::int as n from outbox where tenant_id = any($1) and status not in ('success', 'conflict', 'rejected')`, [tenants]))).rows[0]!.n;
        if (open === 0 || Date.now() > deadline) return open;
        await sleep(250);
      }
    }

    /** The most envelopes of one tenant ever in progress, replaying its audit chain in order. */
    async function maxRunningPerTenant(tenants: string[]): Promise<number> {
      const rows = (await test.owner.transaction((tx) => tx.query<{ tenant_id: string; transition: string; from: string; to: string }>(
        `select tenant_id, payload ->> 'transition' as transition, payload ->> 'from' as from, payload ->> 'to' as to
           from audit_log where tenant_id = any($1) and category = 'outbox' order by tenant_id, chain_seq`, [tenants]))).rows;
      let max = 0;
      const running = new Map<string, number>();
      for (const r of rows) {
        const delta = (r.to === 'in_progress' ? 1 : 0) - (r.from === 'in_progress' ? 1 : 0);
        const now = (running.get(r.tenant_id) ?? 0) + delta;
        running.set(r.tenant_id, now);
        max = Math.max(max, now);
      }
      return max;
    }

    it(`4 processes, ${TENANTS} tenants × ${PER_TENANT} envelopes at limit 1: all done, never two of a tenant at once`, async () => {
      const tenants = await load('5e000000');
      const started = Date.now();
      const procs = [spawnWorker(), spawnWorker(), spawnWorker(), spawnWorker()];
      await Promise.all(procs.map((p) => waitForOutput(p, /running/)));
      const open = await untilSettled(tenants, 240_000);
      const seconds = (Date.now() - started) / 1000;
      for (const p of procs) p.kill('SIGTERM');
      assert.equal(open, 0, `${open} envelopes left after ${seconds} s`);
      assert.equal(await maxRunningPerTenant(tenants), 1);
      console.log(`[multi-process] ${TENANTS * PER_TENANT} envelopes, 4 processes, serialized per tenant: ${seconds.toFixed(1)} s (${Math.round((TENANTS * PER_TENANT) / seconds)}/s)`);
    });

    it('a worker SIGKILLed at 5 random moments loses nothing; repeats only for envelopes in flight, each audited', async () => {
      const tenants = await load('c4000000');
      const survivor = spawnWorker(['--lease-seconds', '2']);
      await waitForOutput(survivor, /running/);
      for (let kill = 0; kill < 5; kill++) {
        const victim = spawnWorker(['--lease-seconds', '2']);
        await waitForOutput(victim, /running/);
        await sleep(200 + Math.floor(Math.random() * 800));
        victim.kill('SIGKILL');
      }
      const open = await untilSettled(tenants, 240_000);
      survivor.kill('SIGTERM');
      assert.equal(open, 0);
      const check = (await test.owner.transaction((tx) => tx.query<{ total: number; in_both: number; repeated: number; repeated_unexplained: number }>(
        `with ours as (select id from outbox where tenant_id = any($1) union all select id from outbox_dlq where tenant_id = any($1)),
              claims as (select payload ->> 'envelope_id' as id, count(*) filter (where payload ->> 'transition' = 'claim') as claims,
                                count(*) filter (where payload ->> 'transition' = 'abandon') as abandons
                           from audit_log where tenant_id = any($1) and category = 'outbox' group by 1)
         select (select count(*)::int from ours) as total,
                (select count(*)::int from outbox o join outbox_dlq q using (id)) as in_both,
                (select count(*)::int from claims where claims > 1) as repeated,
                (select count(*)::int from claims where claims > 1 and claims - 1 > abandons) as repeated_unexplained`, [tenants]))).rows[0]!;
      assert.deepEqual({ total: check.total, in_both: check.in_both, repeated_unexplained: check.repeated_unexplained },
        { total: TENANTS * PER_TENANT, in_both: 0, repeated_unexplained: 0 });
      // The sandbox never fails: a dead letter here can only be an envelope in flight at
      // kill after kill until its attempts ran out.
      const dlqErrors = (await test.owner.transaction((tx) => tx.query<{ last_error: string }>(
        'select last_error from outbox_dlq where tenant_id = any($1)', [tenants]))).rows;
      assert.ok(dlqErrors.every((d) => /lease expired.*attempts exhausted/.test(d.last_error)), JSON.stringify(dlqErrors));
      console.log(`[multi-process] crash test: ${check.repeated} envelope(s) ran again after a kill, each after an audited abandon`);
    });
  });
}
