import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { serviceAccess } from '../../src/services/access.ts';
import { SqlJobService } from '../../src/scheduler/job-service.ts';
import { recordMissedTicks } from '../../src/scheduler/job-queries.ts';
import { runJob } from '../../src/scheduler/run-job.ts';
import { forEachEngine } from '../support/engines.ts';
import { defineTestJob, installTestTargets, runsOf, sleep, ticksOf } from '../support/scheduler.ts';

// The run log's rules, written by begin_job_run / execute_job_run (the in-process runner
// and run-now) and by steward.run_job (pg_cron's command): on both engines.

const T0 = new Date('2026-01-05T10:00:00Z');
const minute = (n: number): Date => new Date(T0.getTime() + n * 60_000);

forEachEngine('the run log', (db, engine) => {
  const run = (job: string, tick: Date | null, runner: 'in_process' | 'manual' = 'in_process') =>
    runJob(db().db, { job, runner, tick, runnerId: 'test-runner' });

  before(async () => {
    await installTestTargets(db().owner);
    await defineTestJob(db().owner, { name: 'test.tick', schedule: '* * * * *', target: 'test.tick' });
    await defineTestJob(db().owner, { name: 'test.flaky', schedule: '1 seconds', target: 'test.flaky' });
    await defineTestJob(db().owner, { name: 'test.busy', schedule: '* * * * *', target: 'test.tick' });
    await defineTestJob(db().owner, { name: 'test.sleep', schedule: '* * * * *', target: 'test.sleep', arguments: { seconds: 2 }, timeout_seconds: 1 });
    // Ticks in these tests are in the past: count missed ones from before them.
    await db().owner.transaction((tx) => tx.query(`update steward.jobs set active_since = '2020-01-01' where name like 'test.%'`));
  });

  it('records a run as running, then succeeded with the target\'s message; a tick on record runs once', async () => {
    let begun: unknown;
    const done = await runJob(db().db, { job: 'test.tick', runner: 'in_process', tick: T0, runnerId: 'test-runner', onBegin: (r) => (begun = r) });
    assert.equal((begun as { status: string }).status, 'running');
    assert.deepEqual({ ...done, started_at: undefined, finished_at: undefined, id: undefined }, {
      id: undefined, job_name: 'test.tick', runner: 'in_process', runner_id: 'test-runner', scheduled_for: T0,
      started_at: undefined, finished_at: undefined, status: 'succeeded', message: 'tick recorded',
    });
    assert.ok(done!.finished_at! >= done!.started_at);
    assert.equal(await run('test.tick', T0), undefined, 'the same tick again: nothing');
    assert.equal(await run('test.tick', minute(-1)), undefined, 'an earlier tick, late: nothing');
    assert.deepEqual(await ticksOf(db().owner, 'test.tick'), [T0]);
  });

  it('records a failing run as failed with its error, and the next tick still runs', async () => {
    const even = new Date('2026-01-05T10:00:02Z');
    const failed = await run('test.flaky', even);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.message, 'flaky target failed at 2026-01-05 10:00:02+00 (SQLSTATE P0001)');
    const next = await run('test.flaky', new Date('2026-01-05T10:00:03Z'));
    assert.equal(next?.status, 'succeeded');
    // The failed run's work was rolled back with it; the next one's committed.
    assert.deepEqual(await ticksOf(db().owner, 'test.flaky'), [new Date('2026-01-05T10:00:03Z')]);
  });

  it('records the ticks nobody ran as one missed row, with their count', async () => {
    await run('test.tick', minute(5));
    const runs = await runsOf(db().owner, 'test.tick');
    const missed = runs.filter((r) => r.status === 'missed');
    assert.deepEqual(missed.map((r) => ({ scheduled_for: r.scheduled_for, message: r.message, runner: r.runner })), [{
      scheduled_for: minute(4), runner: 'in_process',
      message: 'missed 4 tick(s) from 2026-01-05T10:01:00Z to 2026-01-05T10:04:00Z: no scheduler was running',
    }]);
    assert.deepEqual(runs.map((r) => r.status), ['succeeded', 'missed', 'succeeded']);
    // The leader's check on taking over: ticks before now, from the last on record.
    const atTakeover = await db().db.asService((tx) => recordMissedTicks(tx, 'test.tick', minute(8), 'in_process', 'new-leader'));
    assert.match(atTakeover?.message ?? '', /^missed 2 tick\(s\) from 2026-01-05T10:06:00Z to 2026-01-05T10:07:00Z/);
    assert.equal(await db().db.asService((tx) => recordMissedTicks(tx, 'test.tick', minute(8), 'in_process', 'new-leader')), undefined, 'once');
  });

  it('does nothing on the ticks of a paused job; run-now still runs it; ticks while paused are not missed', async () => {
    const jobs = new SqlJobService(serviceAccess(db().db));
    await jobs.pause('test.tick', 'test');
    assert.equal(await run('test.tick', minute(9)), undefined);
    assert.equal((await run('test.tick', null, 'manual'))?.status, 'succeeded');
    await jobs.resume('test.tick', 'test');
    const now = new Date();
    const nextMinute = new Date(Math.ceil(now.getTime() / 60_000) * 60_000);
    assert.equal((await run('test.tick', nextMinute))?.status, 'succeeded');
    const statuses = (await runsOf(db().owner, 'test.tick')).map((r) => `${r.runner}:${r.status}`);
    assert.deepEqual(statuses.slice(-2), ['manual:succeeded', 'in_process:succeeded'], 'no missed row after the resume');
  });

  it('does not start a job on top of a run that is still going', async () => {
    // A run that has begun (its row committed) and not finished: its runner is between
    // begin and execute, or executing.
    const begun = await db().owner.transaction((tx) => tx.query<{ id: number }>(
      `insert into steward.job_runs (job_name, runner, runner_id, scheduled_for, status) values ('test.busy', 'pg_cron', 'elsewhere', $1, 'running') returning id`, [minute(100)]));
    const skipped = await run('test.busy', minute(101));
    assert.equal(skipped?.status, 'skipped');
    assert.match(skipped?.message ?? '', new RegExp(`^not started: run ${begun.rows[0]!.id} \\(pg_cron\\) is still running since `));
    assert.equal(skipped?.scheduled_for?.getTime(), minute(101).getTime());
  });

  it('closes a run whose process died (no lock, begun over 30 s ago) as failed, then runs', async () => {
    await db().owner.transaction((tx) => tx.query(
      `update steward.job_runs set started_at = now() - interval '5 minutes' where job_name = 'test.busy' and status = 'running'`));
    const next = await run('test.busy', minute(102));
    assert.equal(next?.status, 'succeeded');
    const abandoned = (await runsOf(db().owner, 'test.busy')).find((r) => r.scheduled_for?.getTime() === minute(100).getTime());
    assert.equal(abandoned?.status, 'failed');
    assert.match(abandoned?.message ?? '', /^abandoned: the run ended without a result/);
  });

  it('writes the same rows through steward.run_job, pg_cron\'s command', async () => {
    await defineTestJob(db().owner, { name: 'test.cron', schedule: '* * * * *', target: 'test.tick' });
    await db().owner.withSession((s) => s.exec(`call steward.run_job('test.cron')`));
    const last = (await runsOf(db().owner, 'test.cron')).at(-1)!;
    assert.equal(last.runner, 'pg_cron');
    assert.equal(last.status, 'succeeded');
    assert.equal(last.message, 'tick recorded');
    assert.match(last.runner_id ?? '', /^pg_cron pid \d+$/);
    // pg_cron starts a run at its tick: the latest tick at or before now.
    assert.equal(last.scheduled_for!.getTime() % 60_000, 0);
    assert.ok(Date.now() - last.scheduled_for!.getTime() < 120_000);
    await db().owner.withSession((s) => s.exec(`call steward.run_job('test.cron', 'manual')`));
    assert.deepEqual((await runsOf(db().owner, 'test.cron')).at(-1)!.scheduled_for, null);
  });

  if (engine === 'postgres') {
    it('skips a tick while the previous run executes (its row is locked), and ends a run at its timeout', async () => {
      const slow = run('test.sleep', minute(0));
      await sleep(300);
      const overlapping = await run('test.sleep', minute(1));
      assert.equal(overlapping?.status, 'skipped');
      assert.match(overlapping?.message ?? '', /^not started: run \d+ \(in_process\) is still running since/);
      const timedOut = await slow;
      assert.equal(timedOut?.status, 'failed');
      assert.equal(timedOut?.message, 'canceling statement due to statement timeout (SQLSTATE 57014)');
    });
  }
});
