import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { exitOf, startCli, waitForOutput } from '../support/cli.ts';
import { ENGINES, type TestDatabase } from '../support/engines.ts';
import { assertEverySecondOnce, defineTestJob, installTestTargets, pauseBuiltInJobs, runsOf, sleep, ticksOf } from '../support/scheduler.ts';

// Three real `steward jobs start` processes on one PostgreSQL database: each tick of a
// job fires exactly once, and when the leader is killed another takes over. PGlite is one
// process by construction (its data dir is locked), so this runs on PostgreSQL only.

for (const engine of ENGINES.filter((e) => e.name === 'postgres')) {
  describe(`three in-process scheduler processes on ${engine.name}`, () => {
    let test: TestDatabase;
    const processes = new Set<ChildProcessWithoutNullStreams>();

    before(async () => {
      test = await engine.open();
      await installTestTargets(test.owner);
      await pauseBuiltInJobs(test.owner);
      await defineTestJob(test.owner, { name: 'test.every-second', schedule: '1 seconds', target: 'test.tick' });
    });
    after(async () => {
      for (const p of processes) p.kill('SIGKILL');
      await test.close();
    });

    function spawnScheduler(): ChildProcessWithoutNullStreams {
      const p = startCli(['jobs', 'start', '--lease-seconds', '2'], { DATABASE_URL: test.url! });
      processes.add(p);
      p.on('close', () => processes.delete(p));
      return p;
    }

    it('fires each tick exactly once; a killed leader is replaced and the gap is recorded as missed', async () => {
      const three = [spawnScheduler(), spawnScheduler(), spawnScheduler()];
      const exits = three.map((p) => exitOf(p));
      await Promise.all(three.map((p) => waitForOutput(p, /Ready/)));
      await sleep(4_000);

      const holder = (await test.owner.transaction((tx) => tx.query<{ holder: string }>(`select holder from steward.scheduler_leases`))).rows[0]!.holder;
      const leader = three.find((p) => holder.split(':')[1] === String(p.pid));
      assert.ok(leader, `the lease holder ${holder} is one of the three`);
      leader.kill('SIGKILL');
      await sleep(5_000);
      for (const p of three) if (p !== leader) p.kill('SIGTERM');
      const codes = await Promise.all(exits);
      assert.deepEqual(codes.map((c) => c.code), three.map((p) => (p === leader ? null : 0)));

      const runs = await runsOf(test.owner, 'test.every-second');
      assertEverySecondOnce(runs);
      const ticks = (await ticksOf(test.owner, 'test.every-second')).map((t) => t.getTime());
      assert.equal(new Set(ticks).size, ticks.length, 'no tick executed twice');
      assert.ok(ticks.length >= 6, `${ticks.length} ticks executed`);
      const runners = [...new Set(runs.filter((r) => r.status === 'succeeded').map((r) => r.runner_id))];
      assert.equal(runners.length, 2, `the killed leader, then one successor: ${runners.join(', ')}`);
      assert.ok(runners.includes(holder));
      const missed = runs.filter((r) => r.status === 'missed');
      assert.equal(missed.length, 1, 'the ticks while the lease ran out: one row');
      assert.match(missed[0]!.message!, /^missed \d+ tick\(s\) from .* no scheduler was running$/);
    });
  });
}
