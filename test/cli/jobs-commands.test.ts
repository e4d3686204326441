import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exitOf, runCli, startCli, waitForOutput } from '../support/cli.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';
import { ENGINES, TEST_DATABASE_URL } from '../support/engines.ts';
import { cronJobsOf, databaseOf, sleep, unscheduleCronJobsOf } from '../support/scheduler.ts';

// `steward jobs …` as operators run it, on both engines: the same definitions, the same
// history; pg_cron registration where the server has it, the in-process runner where not.

const HISTORY_HEADER = /^ID\s+JOB_NAME\s+RUNNER\s+SCHEDULED_FOR\s+STARTED_AT\s+FINISHED_AT\s+STATUS\s+MESSAGE$/m;

interface JobJson {
  name: string;
  schedule: string;
  enabled: boolean;
  next_tick: string | null;
}
interface RunJson {
  job_name: string;
  runner: string;
  status: string;
  scheduled_for: string | null;
  message: string;
}

for (const engine of ENGINES) {
  describe(`steward jobs on ${engine.name}`, () => {
    let target: Target;
    const cli = (...args: string[]) => runCli(args, target.env);
    const json = async <T>(...args: string[]): Promise<T> => {
      const res = await cli(...args);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      return JSON.parse(res.stdout) as T;
    };

    before(async () => {
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
      assert.equal((await cli('db', 'migrate')).code, 0);
    });
    after(async () => {
      if (engine.name === 'postgres') await unscheduleCronJobsOf(TEST_DATABASE_URL!, databaseOf(target.env.DATABASE_URL!));
      await target.cleanup();
    });

    it('has --help on every command', async () => {
      const help = await cli('jobs', '--help');
      assert.equal(help.code, 0);
      for (const verb of ['list', 'pause', 'resume', 'configure', 'run-now', 'history', 'sync', 'start']) {
        assert.match(help.stdout, new RegExp(`^\\s+${verb}\\b`, 'm'), verb);
        const sub = await cli('jobs', verb, '--help');
        assert.equal(sub.code, 0, verb);
        assert.match(sub.stdout, /^Usage: steward jobs /);
      }
    });

    it('lists the jobs, with their schedules in UTC and next ticks', async () => {
      const list = await json<JobJson[]>('jobs', 'list', '--json');
      assert.deepEqual(list.map((j) => [j.name, j.schedule, j.enabled]), [
        ['catalog.drift-monitor', '0 * * * *', true], ['catalog.trickle-refresh', '*/30 * * * *', true], ['embeddings.reindex', '30 3 * * *', true],
        ['outbox.purge-finished', '15 4 * * *', true], ['outbox.recover-leases', '*/5 * * * *', true], ['scheduler.purge-runs', '45 4 * * *', true],
      ]);
      assert.ok(list.every((j) => j.next_tick && Date.parse(j.next_tick) > Date.now()));
      const table = await cli('jobs', 'list');
      assert.match(table.stdout, /^NAME\s+SCHEDULE\s+STATE\s+NEXT_TICK\s+LAST\s+TARGET$/m);
    });

    it('refuses a bad cron expression naming the field, and an unknown job naming it; nothing changes', async () => {
      const before = await json<JobJson[]>('jobs', 'list', '--json');
      const bad = await cli('jobs', 'configure', 'outbox.recover-leases', '--schedule', '*/5 25 * * *');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /schedule "\*\/5 25 \* \* \*": the hour field "25" is out of range 0–23 \[invalid_input, field schedule\]/);
      const badArgs = await cli('jobs', 'configure', 'outbox.purge-finished', '--arguments', '{"older_than": "5 minutes"}');
      assert.equal(badArgs.code, 1);
      assert.match(badArgs.stderr, /arguments\.older_than: must be a number of hours or days/);
      for (const args of [['pause', 'outbox.recover-lease'], ['resume', 'outbox.recover-lease'], ['run-now', 'outbox.recover-lease'],
        ['configure', 'outbox.recover-lease', '--timeout', '5'], ['history', '--job', 'outbox.recover-lease']]) {
        const res = await cli('jobs', ...args);
        assert.equal(res.code, 1, args.join(' '));
        assert.match(res.stderr, /^steward: job outbox\.recover-lease not found \(steward jobs list shows the jobs\) \[not_found, field job\]$/m);
      }
      assert.deepEqual((await json<JobJson[]>('jobs', 'list', '--json')).map((j) => [j.name, j.schedule, j.enabled]), before.map((j) => [j.name, j.schedule, j.enabled]));
    });

    it('pauses and resumes', async () => {
      const paused = await cli('jobs', 'pause', 'catalog.drift-monitor');
      assert.equal(paused.code, 0, paused.stderr);
      assert.match(paused.stdout, /^catalog\.drift-monitor: paused$/m);
      assert.equal((await json<JobJson[]>('jobs', 'list', '--json')).find((j) => j.name === 'catalog.drift-monitor')?.next_tick, null);
      assert.match((await cli('jobs', 'resume', 'catalog.drift-monitor')).stdout, /^catalog\.drift-monitor: active$/m);
    });

    it('runs a job now, and logs a failing run as failed with its error (exit 1)', async () => {
      const ok = await cli('jobs', 'run-now', 'embeddings.reindex');
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /embeddings\.reindex \[manual\] succeeded: enqueued \d+ evidence re-index envelope\(s\) for \d+ tenant\(s\)/);
      // Arguments only the database refuses (the CLI validates what it writes).
      const owner = await target.owner();
      try {
        await owner.transaction((tx) => tx.query(`update steward.jobs set arguments = '{"older_than": "5 minutes"}' where name = 'outbox.purge-finished'`));
      } finally {
        await owner.close();
      }
      const failed = await cli('jobs', 'run-now', 'outbox.purge-finished', '--json');
      assert.equal(failed.code, 1);
      const run = JSON.parse(failed.stdout) as RunJson;
      assert.deepEqual([run.status, run.message], ['failed', 'purge_finished_envelopes: older_than must be at least 1 hour (SQLSTATE 22023)']);
      assert.equal((await cli('jobs', 'configure', 'outbox.purge-finished', '--arguments', '{"older_than": "30 days"}')).code, 0);
      assert.equal((await cli('jobs', 'run-now', 'outbox.purge-finished')).code, 0, 'and the next run succeeds');
    });

    it('shows the run log the same way on every engine', async () => {
      const history = await cli('jobs', 'history', '--job', 'outbox.purge-finished');
      assert.equal(history.code, 0);
      assert.match(history.stdout, HISTORY_HEADER);
      const lines = history.stdout.trim().split('\n').slice(1);
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /^\d+\s+outbox\.purge-finished\s+manual\s+\S+Z\s+\S+Z\s+succeeded\s+purged 0 finished envelope\(s\) older than 30 days in 1 batch\(es\)$/);
      assert.match(lines[1]!, /^\d+\s+outbox\.purge-finished\s+manual\s+\S+Z\s+\S+Z\s+failed\s+purge_finished_envelopes: older_than must be at least 1 hour/);
      assert.equal((await json<RunJson[]>('jobs', 'history', '--json', '--limit', '1')).length, 1);
    });

    if (engine.name === 'pglite') {
      it('sync says pg_cron is absent; jobs start runs the jobs in-process, into the same history', async () => {
        const sync = await cli('jobs', 'sync');
        assert.equal(sync.code, 1);
        assert.match(sync.stderr, /pg_cron is not available: the embedded database \(PGlite\) has no pg_cron/);
        assert.equal((await cli('jobs', 'configure', 'outbox.recover-leases', '--schedule', '1 seconds')).code, 0);
        const runner = startCli(['jobs', 'start', '--lease-seconds', '3'], target.env);
        const exit = exitOf(runner);
        await waitForOutput(runner, /Ready/);
        await sleep(3_000);
        runner.kill('SIGTERM');
        const { code, stdout } = await exit;
        assert.equal(code, 0);
        assert.match(stdout, /outbox\.recover-leases tick \S+ \[in_process\] succeeded: recovered 0 envelope\(s\)/);
        const runs = await json<RunJson[]>('jobs', 'history', '--job', 'outbox.recover-leases', '--json');
        assert.ok(runs.length >= 2);
        assert.ok(runs.every((r) => r.runner === 'in_process' && r.status === 'succeeded' && r.scheduled_for));
        assert.match((await cli('jobs', 'history', '--job', 'outbox.recover-leases')).stdout, HISTORY_HEADER);
      });
    } else {
      it('sync registers the jobs with pg_cron; sync twice changes nothing; pause and resume follow in cron.job', async () => {
        const database = databaseOf(target.env.DATABASE_URL!);
        const first = await cli('jobs', 'sync');
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, new RegExp(`^pg_cron 1\\.4\\S* in database postgres, jobs of database ${database}:$`, 'm'));
        assert.equal((first.stdout.match(/ created /g) ?? []).length, 6);
        const second = JSON.parse((await cli('jobs', 'sync', '--json')).stdout) as { changes: { action: string }[] };
        assert.deepEqual(second.changes.map((c) => c.action), Array(6).fill('unchanged'));
        const paused = await cli('jobs', 'pause', 'outbox.recover-leases');
        assert.match(paused.stdout, new RegExp(`pg_cron steward:outbox\\.recover-leases@${database} \\(job \\d+\\): paused`));
        assert.equal((await cronJobsOf(TEST_DATABASE_URL!, database)).find((j) => j.jobname.includes('recover-leases'))?.active, false);
        assert.match((await cli('jobs', 'resume', 'outbox.recover-leases')).stdout, /: resumed/);
        assert.ok((await cronJobsOf(TEST_DATABASE_URL!, database)).every((j) => j.active));
      });

      it('a job scheduled every minute runs via pg_cron, and its run shows in jobs history (waits up to ~75 s)', async () => {
        const database = databaseOf(target.env.DATABASE_URL!);
        assert.equal((await cli('jobs', 'configure', 'embeddings.reindex', '--schedule', '* * * * *')).code, 0);
        const jobs = await cronJobsOf(TEST_DATABASE_URL!, database);
        assert.equal(jobs.find((j) => j.jobname.includes('embeddings.reindex'))?.schedule, '* * * * *', 'configure brought the registered cron job along');
        const deadline = Date.now() + 75_000;
        let runs: RunJson[] = [];
        while (Date.now() < deadline) {
          runs = (await json<RunJson[]>('jobs', 'history', '--job', 'embeddings.reindex', '--json')).filter((r) => r.runner === 'pg_cron');
          if (runs.length > 0) break;
          await sleep(2_000);
        }
        assert.equal(runs.length, 1, 'one pg_cron run within the minute');
        assert.equal(runs[0]!.status, 'succeeded');
        assert.equal(Date.parse(runs[0]!.scheduled_for!) % 60_000, 0, 'recorded under its minute');
        assert.match(runs[0]!.message, /^enqueued \d+ evidence re-index envelope\(s\)/);
        const table = await cli('jobs', 'history', '--job', 'embeddings.reindex');
        assert.match(table.stdout, HISTORY_HEADER);
        assert.match(table.stdout, /embeddings\.reindex\s+pg_cron\s+\S+:00\.000Z\s+\S+Z\s+\S+Z\s+succeeded\s+enqueued \d+ evidence/);
      });
    }
  });
}
