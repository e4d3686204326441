import assert from 'node:assert/strict';
import pg from 'pg';
import type { Driver } from '../../src/db/types.ts';
import { withDatabase } from './template.ts';

// Targets and jobs that only tests define, as the database owner (the allow-list is the
// owner's): `test.tick` records each execution in steward.test_ticks (one row per run:
// what "each tick fires exactly once" counts), `test.flaky` fails on ticks at an even
// second, `test.sleep` sleeps for arguments.seconds before recording.

const TEST_TARGETS = `
  create table if not exists steward.test_ticks (
    job text not null, tick timestamptz not null, backend integer not null default pg_backend_pid(),
    at timestamptz not null default clock_timestamp());
  grant select, insert on steward.test_ticks to service_role;
  create or replace function steward.test_tick(p_job text, p_args jsonb, p_tick timestamptz) returns text
  language sql as $$
    insert into steward.test_ticks (job, tick) values (p_job, p_tick);
    select 'tick recorded'
  $$;
  create or replace function steward.test_flaky(p_job text, p_args jsonb, p_tick timestamptz) returns text
  language plpgsql as $$
  begin
    insert into steward.test_ticks (job, tick) values (p_job, p_tick);
    if extract(second from p_tick)::integer % 2 = 0 then
      raise exception 'flaky target failed at %', p_tick using errcode = 'P0001';
    end if;
    return 'odd second: ok';
  end $$;
  create or replace function steward.test_sleep(p_job text, p_args jsonb, p_tick timestamptz) returns text
  language plpgsql as $$
  begin
    perform pg_sleep(coalesce((p_args ->> 'seconds')::float8, 1));
    insert into steward.test_ticks (job, tick) values (p_job, p_tick);
    return 'slept';
  end $$;
  insert into steward.job_targets (name, function, description) values
    ('test.tick', 'steward.test_tick(text, jsonb, timestamptz)', 'test: record the tick'),
    ('test.flaky', 'steward.test_flaky(text, jsonb, timestamptz)', 'test: fail on even seconds'),
    ('test.sleep', 'steward.test_sleep(text, jsonb, timestamptz)', 'test: sleep, then record')
  on conflict (name) do nothing;`;

export async function installTestTargets(owner: Driver): Promise<void> {
  await owner.transaction((tx) => tx.exec(TEST_TARGETS));
}

export interface TestJob {
  name: string;
  schedule: string;
  target: 'test.tick' | 'test.flaky' | 'test.sleep';
  arguments?: Record<string, unknown>;
  timeout_seconds?: number;
  enabled?: boolean;
}

export async function defineTestJob(owner: Driver, job: TestJob): Promise<void> {
  await owner.transaction((tx) => tx.query(
    `insert into steward.jobs (name, description, schedule, target, arguments, timeout_seconds, enabled)
     values ($1, 'test job', $2, $3, $4, $5, $6)`,
    [job.name, job.schedule, job.target, JSON.stringify(job.arguments ?? {}), job.timeout_seconds ?? 60, job.enabled ?? true]));
}

/** Pauses every job the migration defines, so that only a test's own jobs tick. */
export async function pauseBuiltInJobs(owner: Driver): Promise<void> {
  await owner.transaction((tx) => tx.query(`update steward.jobs set enabled = false where target not like 'test.%'`));
}

export interface RunRow {
  id: number;
  job_name: string;
  runner: string;
  runner_id: string | null;
  scheduled_for: Date | null;
  status: string;
  message: string | null;
}

export async function runsOf(owner: Driver, job: string): Promise<RunRow[]> {
  return (await owner.transaction((tx) => tx.query<RunRow>(
    'select id, job_name, runner, runner_id, scheduled_for, status, message from steward.job_runs where job_name = $1 order by id', [job]))).rows;
}

export async function ticksOf(owner: Driver, job: string): Promise<Date[]> {
  return (await owner.transaction((tx) => tx.query<{ tick: Date }>('select tick from steward.test_ticks where job = $1 order by tick', [job]))).rows.map((r) => r.tick);
}

/** A connection to the database that holds pg_cron's tables (cron.database_name). */
async function cronClient(adminUrl: string): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let database: string;
  try {
    database = (await admin.query<{ name: string }>(`select current_setting('cron.database_name') as name`)).rows[0]!.name;
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: withDatabase(adminUrl, database) });
  await client.connect();
  return client;
}

/** cron.job lives in one database shared by every test database: remove what this one registered. */
export async function unscheduleCronJobsOf(adminUrl: string, database: string): Promise<void> {
  const client = await cronClient(adminUrl);
  try {
    await client.query('select cron.unschedule(jobid) from cron.job where database = $1', [database]);
  } finally {
    await client.end();
  }
}

export async function cronJobsOf(adminUrl: string, database: string): Promise<{ jobid: number; jobname: string; schedule: string; command: string; active: boolean }[]> {
  const client = await cronClient(adminUrl);
  try {
    return (await client.query<{ jobid: number; jobname: string; schedule: string; command: string; active: boolean }>(
      'select jobid::int, jobname::text, schedule, command, active from cron.job where database = $1 order by jobname', [database])).rows;
  } finally {
    await client.end();
  }
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * For a job ticking every second: every second from the first tick on record to the last
 * is accounted for exactly once, by a run, a skip, or a missed row's range.
 */
export function assertEverySecondOnce(runs: RunRow[]): void {
  const seconds = new Map<number, string>();
  for (const r of runs) {
    if (!r.scheduled_for) continue;
    const missed = /^missed (\d+) tick\(s\) from (\S+) to (\S+):/.exec(r.message ?? '');
    const from = missed ? Date.parse(missed[2]!) : r.scheduled_for.getTime();
    const to = missed ? Date.parse(missed[3]!) : from;
    if (missed) assert.equal((to - from) / 1000 + 1, Number(missed[1]), `missed count of ${r.message}`);
    for (let t = from; t <= to; t += 1000) {
      assert.ok(!seconds.has(t), `tick ${new Date(t).toISOString()} twice: ${seconds.get(t)} and ${r.status}`);
      seconds.set(t, r.status);
    }
  }
  const all = [...seconds.keys()].sort((a, b) => a - b);
  assert.ok(all.length > 0, 'no ticks on record');
  assert.equal(all.length, (all.at(-1)! - all[0]!) / 1000 + 1, 'no tick unaccounted for');
}
