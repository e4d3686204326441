-- 009_scheduler: recurring jobs (issue 6). One model, two runners, one run log.
--
--   steward.job_targets   the allow-list of SQL functions a job may call (owner-managed)
--   steward.jobs          definitions: name, schedule, target, arguments, enabled, timeout
--   steward.job_runs      the run log: every run from either runner, missed ticks, skips
--   steward.scheduler_leases  the in-process runners' leader lease
--
-- Runners. On PostgreSQL with pg_cron, `steward jobs sync` registers one cron job per
-- definition whose command is `call steward.run_job('<name>')`. Where pg_cron is absent
-- (PGlite, or a server without it) the in-process runner (src/scheduler) fires the same
-- definitions and calls begin_job_run and execute_job_run itself, as the service role.
-- Either way the same two functions write the rows, so history reads the same.
--
-- Schedules are UTC: pg_cron 1.4 runs in GMT, and the in-process runner is told UTC.
-- A schedule is a 5-field cron expression in the subset both runners read alike
-- (numbers, `*`, ranges, steps, lists; no names, no L/W/#), or `N seconds` with N
-- dividing 60 (pg_cron 1.5+ only). src/scheduler/schedule.ts validates with a message
-- naming the field; the SQL below is the backstop and computes ticks for missed-tick
-- accounting (test/scheduler/schedule-sql.test.ts checks it against croner).

-- ---------------------------------------------------------------------------
-- Schedules

-- The values one cron field allows, sorted. Items: `*`, `n`, `a-b`, each of `*` and
-- `a-b` optionally `/step` (Vixie cron's grammar, which pg_cron uses: `n/step` is not one).
create or replace function steward.cron_field_values(p_field text, p_lo integer, p_hi integer) returns integer[]
language plpgsql immutable strict as $$
declare
  item text;
  m text[];
  a integer;
  b integer;
  step integer;
  vals integer[] := '{}';
begin
  foreach item in array string_to_array(p_field, ',') loop
    m := regexp_match(item, '^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:/(\d{1,2}))?$');
    if m is null or (m[4] is not null and m[1] is null and m[3] is null) then
      raise exception 'invalid cron field "%"', p_field using errcode = '22023';
    end if;
    if m[1] is not null then
      a := p_lo;
      b := p_hi;
    else
      a := m[2]::integer;
      b := coalesce(m[3]::integer, a);
    end if;
    step := coalesce(m[4]::integer, 1);
    if a < p_lo or b > p_hi or a > b or step < 1 then
      raise exception 'invalid cron field "%": values are % to %', p_field, p_lo, p_hi using errcode = '22023';
    end if;
    vals := vals || array(select generate_series(a, b, step));
  end loop;
  return array(select distinct v from unnest(vals) v order by v);
end $$;

-- `N seconds` → N; anything else → null.
create or replace function steward.schedule_interval_seconds(p_schedule text) returns integer
language sql immutable strict as $$
  select (regexp_match(p_schedule, '^([1-9]\d?) seconds$'))[1]::integer
$$;

-- True when both runners can run the schedule and read it alike.
create or replace function steward.schedule_is_valid(p_schedule text) returns boolean
language plpgsql immutable as $$
declare
  n integer := steward.schedule_interval_seconds(p_schedule);
  f text[];
begin
  if p_schedule is null then
    return false;
  end if;
  if n is not null then
    return n < 60 and 60 % n = 0;
  end if;
  f := regexp_split_to_array(btrim(p_schedule), '\s+');
  if cardinality(f) <> 5 then
    return false;
  end if;
  perform steward.cron_field_values(f[1], 0, 59), steward.cron_field_values(f[2], 0, 23),
          steward.cron_field_values(f[3], 1, 31), steward.cron_field_values(f[4], 1, 12),
          steward.cron_field_values(f[5], 0, 7);
  -- `*/n` in one day field while the other is restricted: Vixie cron (pg_cron) ANDs the
  -- two, croner ORs them. Refused, so that both runners fire on the same days.
  if (f[3] like '*%' and f[3] <> '*' and f[5] <> '*') or (f[5] like '*%' and f[5] <> '*' and f[3] <> '*') then
    return false;
  end if;
  return true;
exception when invalid_parameter_value then
  return false;
end $$;

-- The ticks of a cron expression strictly between p_after and p_before, in UTC, looking
-- back at most 400 days (a longer outage is reported as 400 days' worth). Day by day,
-- then the hours and minutes of each matching day: cheap even for `* * * * *`.
-- Day-of-month and day-of-week: both restricted → either matches (Vixie cron and croner).
create or replace function steward.cron_ticks(p_expr text, p_after timestamptz, p_before timestamptz)
returns setof timestamptz
language plpgsql immutable as $$
declare
  f text[] := regexp_split_to_array(btrim(p_expr), '\s+');
  minutes integer[] := steward.cron_field_values(f[1], 0, 59);
  hours integer[] := steward.cron_field_values(f[2], 0, 23);
  doms integer[] := steward.cron_field_values(f[3], 1, 31);
  months integer[] := steward.cron_field_values(f[4], 1, 12);
  dows integer[] := array(select distinct case when v = 7 then 0 else v end
                            from unnest(steward.cron_field_values(f[5], 0, 7)) v);
  either boolean := f[3] <> '*' and f[5] <> '*';
  first_day timestamp := date_trunc('day', greatest(p_after, p_before - interval '400 days') at time zone 'UTC');
  last_day timestamp := date_trunc('day', p_before at time zone 'UTC');
begin
  return query
  select t from (
    select (d + make_interval(hours => h, mins => mi)) at time zone 'UTC' as t
      from generate_series(first_day, last_day, interval '1 day') d
      cross join unnest(hours) h
      cross join unnest(minutes) mi
     where extract(month from d)::integer = any (months)
       and case when either
                then extract(day from d)::integer = any (doms) or extract(dow from d)::integer = any (dows)
                else extract(day from d)::integer = any (doms) and extract(dow from d)::integer = any (dows) end
  ) x
  where x.t > p_after and x.t < p_before
  order by x.t;
end $$;

-- How many ticks fell strictly between two instants, and the first and last of them.
-- `N seconds` ticks are multiples of N seconds since the epoch (the in-process runner's
-- `*/N` seconds; pg_cron's own N-second timer is not aligned, which only matters to
-- missed-tick counts of such jobs).
create or replace function steward.schedule_gap(p_schedule text, p_after timestamptz, p_before timestamptz)
returns table (ticks bigint, first_tick timestamptz, last_tick timestamptz)
language plpgsql immutable as $$
declare
  n integer := steward.schedule_interval_seconds(p_schedule);
  k_min bigint;
  k_max bigint;
begin
  if n is not null then
    k_min := floor(extract(epoch from p_after) / n)::bigint + 1;
    k_max := ceil(extract(epoch from p_before) / n)::bigint - 1;
    if k_max < k_min then
      return query select 0::bigint, null::timestamptz, null::timestamptz;
    else
      return query select k_max - k_min + 1, to_timestamp(k_min * n), to_timestamp(k_max * n);
    end if;
    return;
  end if;
  return query select count(*), min(t), max(t) from steward.cron_ticks(p_schedule, p_after, p_before) t;
end $$;

-- The tick a run starting at p_at belongs to: the latest tick at or before it (pg_cron
-- starts a run at its tick, or later when the previous run of the job was still going).
create or replace function steward.schedule_latest_tick(p_schedule text, p_at timestamptz) returns timestamptz
language plpgsql immutable as $$
declare
  n integer := steward.schedule_interval_seconds(p_schedule);
  latest timestamptz;
begin
  if n is not null then
    return to_timestamp(floor(extract(epoch from p_at) / n) * n);
  end if;
  select max(t) into latest from steward.cron_ticks(p_schedule, p_at - interval '1 day', p_at + interval '1 microsecond') t;
  return coalesce(latest, date_trunc('minute', p_at));
end $$;

-- ---------------------------------------------------------------------------
-- Tables

-- The allow-list: a job can only call a function named here. Every target takes
-- (job name, arguments, tick) and returns the run's message. Only the owner (migrations)
-- writes it: pg_cron runs jobs as the role that synced them, often a superuser, so the
-- service role must not be able to point a job at any function it likes.
create table steward.job_targets (
  name text primary key check (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  function regprocedure not null unique,
  description text not null
);

create table steward.jobs (
  name text primary key check (name ~ '^[a-z][a-z0-9]*([._-][a-z0-9]+)*$' and length(name) <= 40),
  description text not null default '' check (length(description) <= 1000),
  schedule text not null check (steward.schedule_is_valid(schedule)),
  target text not null references steward.job_targets (name),
  arguments jsonb not null default '{}' check (jsonb_typeof(arguments) = 'object' and octet_length(arguments::text) <= 16384),
  enabled boolean not null default true,
  -- Enforced where the engine can (statement_timeout of the in-process runner and
  -- run-now on PostgreSQL); pg_cron 1.4 has no per-job timeout, PGlite none at all.
  timeout_seconds integer not null default 60 check (timeout_seconds between 1 and 86400),
  -- Missed ticks are counted from here or from the last recorded tick, whichever is
  -- later: set on creation, on resume and when the schedule changes, so a paused job's
  -- ticks are never "missed".
  active_since timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger jobs_set_updated_at before update on steward.jobs
  for each row execute function steward.set_updated_at();

create table steward.job_runs (
  id bigint generated always as identity primary key,
  job_name text not null references steward.jobs (name) on delete cascade,
  -- manual: `steward jobs run-now` (or `call steward.run_job(name, 'manual')`)
  runner text not null check (runner in ('pg_cron', 'in_process', 'manual')),
  -- which process or backend: the in-process runner's id, `pg_cron pid N`, `cli pid N`
  runner_id text,
  -- the tick this row is about; null for manual runs
  scheduled_for timestamptz,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  status text not null check (status in ('running', 'succeeded', 'failed', 'missed', 'skipped')),
  message text,
  check ((status = 'running') = (finished_at is null))
);
-- One row per tick: a tick fired twice (two runners, a leader handover) runs once.
create unique index job_runs_tick_uidx on steward.job_runs (job_name, scheduled_for) where scheduled_for is not null;
create index job_runs_job_started_idx on steward.job_runs (job_name, started_at desc);
create index job_runs_started_idx on steward.job_runs (started_at);
create index job_runs_running_idx on steward.job_runs (job_name) where status = 'running';

create table steward.scheduler_leases (
  name text primary key,
  holder text not null,
  acquired_at timestamptz not null,
  expires_at timestamptz not null
);

-- Retention scans finished envelopes by age only.
create index outbox_finished_idx on public.outbox (updated_at) where status in ('success', 'conflict', 'rejected');

-- Operators' tables, not tenants': RLS on, the service role's policy only, no grants to
-- anon or authenticated (as steward.tenant_slots in 005).
do $do$
declare
  t text;
begin
  foreach t in array array['steward.job_targets', 'steward.jobs', 'steward.job_runs', 'steward.scheduler_leases'] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy service_role_full_access on %s as permissive for all to service_role using (true) with check (true)', t);
    execute format('revoke all on table %s from public, anon, authenticated', t);
  end loop;
end
$do$;
grant select on table steward.job_targets to service_role;
grant select, insert, update, delete on table steward.jobs, steward.job_runs, steward.scheduler_leases to service_role;

-- ---------------------------------------------------------------------------
-- Running a job: begin (one transaction) then execute (another), so that the running
-- row is visible while the target runs and a run whose process dies is still on record.

-- Ticks between the last one on record (or active_since) and p_before, exclusive, as
-- one `missed` row whose scheduled_for is the last of them: at most one row per job per
-- outage, the count in its message. Nothing before a job's first scheduled run.
create or replace function steward.record_missed_ticks(
  p_job text, p_before timestamptz, p_runner text, p_runner_id text default null
) returns setof steward.job_runs
language plpgsql set search_path = pg_catalog, public as $$
declare
  j steward.jobs;
  last_tick timestamptz;
  gap record;
begin
  select * into j from steward.jobs where name = p_job for no key update;
  if not found then
    raise exception 'job % not found', p_job using errcode = 'P0002';
  end if;
  select max(r.scheduled_for) into last_tick from steward.job_runs r where r.job_name = p_job;
  if last_tick is null or not j.enabled then
    return;
  end if;
  select * into gap from steward.schedule_gap(j.schedule, greatest(last_tick, j.active_since), p_before);
  if gap.ticks = 0 then
    return;
  end if;
  return query
  insert into steward.job_runs (job_name, runner, runner_id, scheduled_for, started_at, finished_at, status, message)
  values (p_job, p_runner, p_runner_id, gap.last_tick, clock_timestamp(), clock_timestamp(), 'missed',
          format('missed %s tick(s) from %s to %s: no scheduler was running', gap.ticks,
                 to_char(gap.first_tick at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 to_char(gap.last_tick at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  on conflict (job_name, scheduled_for) where scheduled_for is not null do nothing
  returning *;
end $$;

-- begin: the row a run starts with. Returns one row, `running` (execute it next) or
-- `skipped` (the job's previous run is still going), or nothing: the job is paused (for
-- scheduled runners), or this tick is accounted for already.
-- A previous run counts as still going while its executing transaction holds its row,
-- or for 30 s after it began (the gap between begin and execute); after that an
-- unlocked `running` row belongs to a process or session that died, and is closed as
-- failed so the job is not blocked for ever.
create or replace function steward.begin_job_run(
  p_job text, p_runner text, p_tick timestamptz default null, p_runner_id text default null
) returns setof steward.job_runs
language plpgsql set search_path = pg_catalog, public as $$
declare
  j steward.jobs;
  r steward.job_runs;
  busy steward.job_runs;
begin
  -- Serialises begins of one job (short; executions never take this row's lock).
  select * into j from steward.jobs where name = p_job for no key update;
  if not found then
    raise exception 'job % not found', p_job using errcode = 'P0002';
  end if;
  if p_runner <> 'manual' and not j.enabled then
    return;
  end if;
  if p_tick is not null then
    -- A tick at or before the last one on record is accounted for already (run, skipped,
    -- or counted in a missed row): fired twice, or late after a new leader counted it.
    if exists (select from steward.job_runs where job_name = p_job and scheduled_for >= p_tick) then
      return;
    end if;
    perform steward.record_missed_ticks(p_job, p_tick, p_runner, p_runner_id);
  end if;

  for r in select * from steward.job_runs where job_name = p_job and status = 'running' order by id loop
    perform from steward.job_runs where id = r.id for update skip locked;
    if found and r.started_at < clock_timestamp() - interval '30 seconds' then
      update steward.job_runs
         set status = 'failed', finished_at = clock_timestamp(),
             message = 'abandoned: the run ended without a result (its process or database session stopped)'
       where id = r.id;
    else
      busy := r;
    end if;
  end loop;

  if busy.id is not null then
    return query
    insert into steward.job_runs (job_name, runner, runner_id, scheduled_for, started_at, finished_at, status, message)
    values (p_job, p_runner, p_runner_id, p_tick, clock_timestamp(), clock_timestamp(), 'skipped',
            format('not started: run %s (%s) is still running since %s', busy.id, busy.runner,
                   to_char(busy.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
    returning *;
    return;
  end if;

  return query
  insert into steward.job_runs (job_name, runner, runner_id, scheduled_for, status)
  values (p_job, p_runner, p_runner_id, p_tick, 'running')
  returning *;
end $$;

-- A tick the caller will not start because its own previous run of the job is still in
-- flight (the in-process runner knows before the database does: on PGlite, whose one
-- session runs one statement at a time, begin would only see the run once it ended).
create or replace function steward.skip_job_tick(
  p_job text, p_runner text, p_tick timestamptz, p_runner_id text default null, p_busy_run bigint default null
) returns setof steward.job_runs
language plpgsql set search_path = pg_catalog, public as $$
declare
  busy steward.job_runs;
begin
  if exists (select from steward.job_runs where job_name = p_job and scheduled_for >= p_tick) then
    return;
  end if;
  select * into busy from steward.job_runs where id = p_busy_run;
  return query
  insert into steward.job_runs (job_name, runner, runner_id, scheduled_for, started_at, finished_at, status, message)
  values (p_job, p_runner, p_runner_id, p_tick, clock_timestamp(), clock_timestamp(), 'skipped',
          case when busy.id is null then 'not started: the previous run is still running'
               else format('not started: run %s (%s) is still running since %s', busy.id, busy.runner,
                           to_char(busy.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) end)
  on conflict (job_name, scheduled_for) where scheduled_for is not null do nothing
  returning *;
end $$;

-- execute: runs the target of a `running` row and records the outcome in the same
-- transaction, so what the target did and `succeeded` commit together; a failure rolls
-- the target back and is recorded as `failed` with its error. The run's row stays locked
-- while the target runs (begin_job_run reads that as "still running"). A statement
-- timeout or a cancel is caught too (query_canceled is not part of OTHERS), so a run cut
-- short is still recorded.
create or replace function steward.execute_job_run(p_run bigint) returns steward.job_runs
language plpgsql set search_path = pg_catalog, public as $$
declare
  run steward.job_runs;
  j steward.jobs;
  fn regprocedure;
  msg text;
begin
  select * into run from steward.job_runs where id = p_run for update;
  if not found then
    raise exception 'job run % not found', p_run using errcode = 'P0002';
  end if;
  if run.status <> 'running' then
    return run;
  end if;
  select * into j from steward.jobs where name = run.job_name;
  select t.function into fn from steward.job_targets t where t.name = j.target;
  begin
    -- The function comes from the allow-list, never from the caller.
    execute format('select %s($1, $2, $3)', fn::regproc)
       into msg
      using j.name, j.arguments, coalesce(run.scheduled_for, run.started_at);
    update steward.job_runs set status = 'succeeded', finished_at = clock_timestamp(), message = coalesce(msg, 'ok')
     where id = p_run returning * into run;
  exception when query_canceled or others then
    update steward.job_runs set status = 'failed', finished_at = clock_timestamp(),
           message = format('%s (SQLSTATE %s)', sqlerrm, sqlstate)
     where id = p_run returning * into run;
  end;
  return run;
end $$;

-- A run the caller gave up on (its execute transaction failed outright, e.g. the
-- connection dropped): closed as failed unless it already has an outcome.
create or replace function steward.fail_job_run(p_run bigint, p_message text) returns setof steward.job_runs
language sql set search_path = pg_catalog, public as $$
  update steward.job_runs set status = 'failed', finished_at = clock_timestamp(), message = p_message
   where id = p_run and status = 'running'
  returning *
$$;

-- pg_cron's command (`call steward.run_job('name')`), also usable by hand with runner
-- 'manual'. A procedure, so that it can commit the running row before the target runs
-- (pg_cron runs a single CALL outside a transaction block; a multi-statement command
-- could not commit). Runs with the rights of the role that scheduled it.
create or replace procedure steward.run_job(p_job text, p_runner text default 'pg_cron', p_runner_id text default null)
language plpgsql as $$
declare
  tick timestamptz;
  run_id bigint;
begin
  if p_runner = 'pg_cron' then
    select steward.schedule_latest_tick(j.schedule, now()) into tick from steward.jobs j where j.name = p_job;
  end if;
  select r.id into run_id
    from steward.begin_job_run(p_job, p_runner, tick, coalesce(p_runner_id, format('%s pid %s', p_runner, pg_backend_pid()))) r
   where r.status = 'running';
  commit;
  if run_id is not null then
    perform steward.execute_job_run(run_id);
    commit;
  end if;
end $$;

-- The command pg_cron runs for a job (sync compares it with cron.job.command).
create or replace function steward.job_cron_command(p_job text) returns text
language sql immutable strict as $$
  select format('call steward.run_job(%L)', p_job)
$$;

-- ---------------------------------------------------------------------------
-- Operating jobs: each change is audited (category `scheduler`, no tenant).

create or replace function steward.audit_job_change(p_actor text, p_job text, p_change text, p_from jsonb, p_to jsonb)
returns void
language sql as $$
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (null, 'operator', coalesce(p_actor, 'unknown'), 'scheduler',
          jsonb_build_object('job', p_job, 'change', p_change, 'from', p_from, 'to', p_to))
$$;

-- p_enabled: pause (false) or resume (true). Resuming restarts missed-tick counting.
create or replace function steward.set_job_enabled(p_job text, p_enabled boolean, p_actor text)
returns steward.jobs
language plpgsql set search_path = pg_catalog, public as $$
declare
  before steward.jobs;
  after steward.jobs;
begin
  select * into before from steward.jobs where name = p_job for no key update;
  if not found then
    raise exception 'job % not found', p_job using errcode = 'P0002';
  end if;
  if before.enabled = p_enabled then
    return before;
  end if;
  update steward.jobs
     set enabled = p_enabled, active_since = case when p_enabled then now() else active_since end
   where name = p_job returning * into after;
  perform steward.audit_job_change(p_actor, p_job, case when p_enabled then 'resume' else 'pause' end,
    to_jsonb(before.enabled), to_jsonb(after.enabled));
  return after;
end $$;

-- Changes any of schedule, timeout, arguments (null = keep). A new schedule restarts
-- missed-tick counting.
create or replace function steward.configure_job(
  p_job text, p_actor text, p_schedule text default null, p_timeout_seconds integer default null, p_arguments jsonb default null
) returns steward.jobs
language plpgsql set search_path = pg_catalog, public as $$
declare
  before steward.jobs;
  after steward.jobs;
begin
  select * into before from steward.jobs where name = p_job for no key update;
  if not found then
    raise exception 'job % not found', p_job using errcode = 'P0002';
  end if;
  update steward.jobs
     set schedule = coalesce(p_schedule, schedule),
         timeout_seconds = coalesce(p_timeout_seconds, timeout_seconds),
         arguments = coalesce(p_arguments, arguments),
         active_since = case when p_schedule is distinct from null and p_schedule <> schedule then now() else active_since end
   where name = p_job returning * into after;
  if (before.schedule, before.timeout_seconds, before.arguments) is distinct from (after.schedule, after.timeout_seconds, after.arguments) then
    perform steward.audit_job_change(p_actor, p_job, 'configure',
      jsonb_build_object('schedule', before.schedule, 'timeout_seconds', before.timeout_seconds, 'arguments', before.arguments),
      jsonb_build_object('schedule', after.schedule, 'timeout_seconds', after.timeout_seconds, 'arguments', after.arguments));
  end if;
  return after;
end $$;

-- The in-process runners' leader lease: the holder's expiry when p_holder holds it
-- (acquired or renewed), nothing when another process does and it has not expired.
create or replace function steward.acquire_scheduler_lease(p_holder text, p_ttl_seconds integer, p_name text default 'in_process')
returns setof timestamptz
language sql set search_path = pg_catalog, public as $$
  insert into steward.scheduler_leases as l (name, holder, acquired_at, expires_at)
  values (p_name, p_holder, clock_timestamp(), clock_timestamp() + make_interval(secs => p_ttl_seconds))
  on conflict (name) do update
     set holder = excluded.holder,
         acquired_at = case when l.holder = excluded.holder then l.acquired_at else excluded.acquired_at end,
         expires_at = excluded.expires_at
   where l.holder = excluded.holder or l.expires_at < clock_timestamp()
  returning expires_at
$$;

create or replace function steward.release_scheduler_lease(p_holder text, p_name text default 'in_process')
returns boolean
language sql set search_path = pg_catalog, public as $$
  with released as (delete from steward.scheduler_leases where name = p_name and holder = p_holder returning 1)
  select exists (select from released)
$$;

-- ---------------------------------------------------------------------------
-- Retention: finished envelopes (success, conflict, rejected) last changed before
-- p_older_than ago, oldest first, at most p_batch_size per call. Dead letters stay (they
-- wait for a person). One audit row per tenant per batch records how many went, so the
-- chain shows the removal without a row per envelope.
create or replace function steward.purge_finished_envelopes(
  p_older_than interval default '30 days', p_batch_size integer default 1000, p_now timestamptz default now()
) returns bigint
language plpgsql set search_path = pg_catalog, public as $$
declare
  purged bigint;
begin
  if p_older_than is null or p_older_than < interval '1 hour' then
    raise exception 'purge_finished_envelopes: older_than must be at least 1 hour' using errcode = '22023';
  end if;
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100000 then
    raise exception 'purge_finished_envelopes: batch_size must be 1 to 100000' using errcode = '22023';
  end if;
  with doomed as (
    select o.id from public.outbox o
     where o.status in ('success', 'conflict', 'rejected') and o.updated_at < p_now - p_older_than
     order by o.updated_at
     limit p_batch_size
     for update skip locked
  ), deleted as (
    delete from public.outbox o using doomed d where o.id = d.id returning o.tenant_id
  ), per_tenant as (
    select tenant_id, count(*) as n from deleted group by tenant_id
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select p.tenant_id, 'scheduler', 'retention', 'retention', jsonb_build_object(
             'transition', 'purge', 'table', 'outbox', 'count', p.n, 'older_than', p_older_than::text)
      from per_tenant p order by p.tenant_id
  )
  select coalesce(sum(n), 0) into purged from per_tenant;
  return purged;
end $$;

-- ---------------------------------------------------------------------------
-- System envelopes: outbox work the scheduler asks for (tool_slug `steward.*`, run by the
-- worker's routing executor), through enqueue_envelopes so that idempotency and auditing
-- are the outbox's own. The caller derives every external_id from the job and its tick
-- (job_external_id): a tick fired twice enqueues once. As 007's
-- steward.enqueue_system_envelope (Steward's on-demand requests): risk low, metadata
-- {"system": true}, marked approved by `steward:system` (the trust and evidence
-- guardrails judge an agent's proposals; nobody is there to approve Steward's own work),
-- and work still pending with the same tenant, tool and arguments is not queued again
-- (a refresh waiting on an empty rate bucket must not pile up tick after tick).
-- p_envelopes: [{tenant_id, tool_slug, arguments, external_id, next_run_at?}].
-- Returns how many were queued.
create or replace function steward.enqueue_system_envelopes(p_envelopes jsonb, p_job text)
returns integer
language plpgsql set search_path = pg_catalog, public as $$
declare
  wanted jsonb;
  created_ids uuid[];
begin
  if exists (select from jsonb_array_elements(p_envelopes) e where e ->> 'tool_slug' !~ '^steward\.[a-z0-9_.]+$') then
    raise exception 'enqueue_system_envelopes: system envelopes use tool_slug steward.*' using errcode = '22023';
  end if;
  select coalesce(jsonb_agg(x.e || jsonb_build_object(
           'ord', x.i, 'risk', 'low', 'actor_type', 'system', 'actor_id', 'scheduler:' || p_job,
           'metadata', jsonb_build_object('system', true, 'job', p_job)) order by x.i), '[]'::jsonb)
    into wanted
    from jsonb_array_elements(p_envelopes) with ordinality as x(e, i)
   where not exists (select from public.outbox o
                      where o.tenant_id = (x.e ->> 'tenant_id')::uuid and o.tool_slug = x.e ->> 'tool_slug'
                        and o.status = 'pending' and o.arguments = x.e -> 'arguments');
  select array_agg(r.id) filter (where r.created) into created_ids from steward.enqueue_envelopes(wanted) r;
  update public.outbox o set approved_at = now(), approved_by = 'steward:system' where o.id = any (created_ids);
  return coalesce(cardinality(created_ids), 0);
end $$;

-- The idempotency key of what a job enqueues for one tick (and part, e.g. a toolkit).
create or replace function steward.job_external_id(p_job text, p_tick timestamptz, p_part text default null)
returns text
language sql immutable as $$
  select concat_ws(':', 'job', p_job, to_char(p_tick at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), p_part)
$$;

-- ---------------------------------------------------------------------------
-- Targets (the allow-list below). Each enqueues work or does a bounded amount itself.

-- Which accounts make a tenant's toolkit: those linked once (an expired or disabled one
-- will be re-authorised; one never authorised or revoked is not), as the catalog sync
-- reads them (src/integrations/composio/catalog-queries.ts).

-- Trickle refresh: one `steward.catalog.refresh` {toolkit} per tenant and toolkit of its
-- linked connected accounts (optionally only `toolkits`, so a category can have a job
-- and cadence of its own), each due at a stable offset within `spread_minutes` of the
-- tick, so the provider calls trickle through the window instead of arriving at once.
create or replace function steward.job_enqueue_catalog_refresh(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  spread_seconds integer := 60 * coalesce((p_args ->> 'spread_minutes')::integer, 0);
  only_toolkits text[] := case when jsonb_typeof(p_args -> 'toolkits') = 'array'
                               then array(select lower(t) from jsonb_array_elements_text(p_args -> 'toolkits') t) end;
  wanted jsonb;
  total integer;
  created integer;
begin
  select count(*), coalesce(jsonb_agg(jsonb_build_object(
           'tenant_id', x.tenant_id, 'tool_slug', 'steward.catalog.refresh',
           'arguments', jsonb_build_object('toolkit', x.toolkit),
           'external_id', steward.job_external_id(p_job, p_tick, x.toolkit),
           'next_run_at', p_tick + make_interval(secs => case when spread_seconds > 0
             then (hashtext(x.tenant_id::text || ':' || x.toolkit)::bigint & 2147483647) % spread_seconds else 0 end))
         order by x.tenant_id, x.toolkit), '[]')
    into total, wanted
    from (select distinct a.tenant_id, lower(btrim(a.provider)) as toolkit
            from public.connected_accounts a
           where a.status in ('active', 'expired', 'inactive') and btrim(a.provider) <> ''
             and (only_toolkits is null or lower(btrim(a.provider)) = any (only_toolkits))) x;
  created := steward.enqueue_system_envelopes(wanted, p_job);
  return format('enqueued %s catalog refresh envelope(s) for %s tenant-toolkit pair(s) with linked accounts', created, total);
end $$;

-- Drift monitor: one `steward.catalog.drift` {} per tenant with a linked connected account.
create or replace function steward.job_enqueue_catalog_drift(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  wanted jsonb;
  total integer;
  created integer;
begin
  select count(*), coalesce(jsonb_agg(jsonb_build_object(
           'tenant_id', x.tenant_id, 'tool_slug', 'steward.catalog.drift', 'arguments', '{}'::jsonb,
           'external_id', steward.job_external_id(p_job, p_tick)) order by x.tenant_id), '[]')
    into total, wanted
    from (select distinct a.tenant_id from public.connected_accounts a where a.status in ('active', 'expired', 'inactive')) x;
  created := steward.enqueue_system_envelopes(wanted, p_job);
  return format('enqueued %s catalog drift envelope(s) for %s tenant(s) with linked accounts', created, total);
end $$;

-- Embedding re-indexer: one `steward.evidence.reindex` {} per tenant. The worker's
-- handler (src/evidence/reindex-handler.ts) collects what is new (finished proposals,
-- tool outputs, audit entries) and embeds it with the configured model, outside the
-- scheduler and off the worker's hot path.
create or replace function steward.job_reindex_embeddings(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  wanted jsonb;
  total integer;
  created integer;
begin
  select count(*), coalesce(jsonb_agg(jsonb_build_object(
           'tenant_id', t.id, 'tool_slug', 'steward.evidence.reindex', 'arguments', '{}'::jsonb,
           'external_id', steward.job_external_id(p_job, p_tick)) order by t.id), '[]')
    into total, wanted
    from public.tenants t;
  created := steward.enqueue_system_envelopes(wanted, p_job);
  return format('enqueued %s evidence re-index envelope(s) for %s tenant(s)', created, total);
end $$;

create or replace function steward.job_recover_expired_leases(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  recovered integer;
  dead integer;
begin
  select count(*), count(*) filter (where r.status = 'dlq') into recovered, dead
    from steward.recover_expired_leases(
      coalesce(p_args -> 'max_attempts', '{"low": 5, "medium": 3, "high": 2}'::jsonb), now(),
      coalesce((p_args ->> 'limit')::integer, 1000)) r;
  return format('recovered %s envelope(s) from expired leases (%s dead-lettered)', recovered, dead);
end $$;

create or replace function steward.job_purge_finished_envelopes(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  older_than interval := coalesce((p_args ->> 'older_than')::interval, interval '30 days');
  batch_size integer := coalesce((p_args ->> 'batch_size')::integer, 1000);
  max_batches integer := coalesce((p_args ->> 'max_batches')::integer, 100);
  n bigint;
  total bigint := 0;
  batches integer := 0;
begin
  loop
    n := steward.purge_finished_envelopes(older_than, batch_size, now());
    total := total + n;
    batches := batches + 1;
    exit when n < batch_size or batches >= max_batches;
  end loop;
  return format('purged %s finished envelope(s) older than %s in %s batch(es)%s', total, older_than, batches,
    case when n = batch_size then '; more remain for the next run' else '' end);
end $$;

create or replace function steward.job_purge_job_runs(p_job text, p_args jsonb, p_tick timestamptz)
returns text
language plpgsql set search_path = pg_catalog, public as $$
declare
  older_than interval := coalesce((p_args ->> 'older_than')::interval, interval '90 days');
  purged bigint;
begin
  with gone as (
    delete from steward.job_runs where status <> 'running' and started_at < now() - older_than returning 1
  ) select count(*) into purged from gone;
  return format('purged %s job run(s) older than %s', purged, older_than);
end $$;

insert into steward.job_targets (name, function, description) values
  ('catalog.enqueue_refresh', 'steward.job_enqueue_catalog_refresh(text, jsonb, timestamptz)',
   'enqueue steward.catalog.refresh {toolkit} per tenant and toolkit with linked accounts'),
  ('catalog.enqueue_drift', 'steward.job_enqueue_catalog_drift(text, jsonb, timestamptz)',
   'enqueue steward.catalog.drift {} per tenant with linked accounts'),
  ('embeddings.reindex', 'steward.job_reindex_embeddings(text, jsonb, timestamptz)',
   'enqueue steward.evidence.reindex {} per tenant'),
  ('outbox.recover_expired_leases', 'steward.job_recover_expired_leases(text, jsonb, timestamptz)',
   'steward.recover_expired_leases: in_progress envelopes whose lease expired'),
  ('outbox.purge_finished', 'steward.job_purge_finished_envelopes(text, jsonb, timestamptz)',
   'steward.purge_finished_envelopes in batches'),
  ('scheduler.purge_runs', 'steward.job_purge_job_runs(text, jsonb, timestamptz)',
   'delete finished job runs older than older_than');

insert into steward.jobs (name, description, schedule, target, arguments, timeout_seconds) values
  ('catalog.trickle-refresh',
   'Every 30 minutes: enqueue a catalog refresh (steward.catalog.refresh) per tenant and toolkit with linked accounts, spread over 25 minutes.',
   '*/30 * * * *', 'catalog.enqueue_refresh', '{"spread_minutes": 25}', 60),
  ('catalog.drift-monitor',
   'Hourly: enqueue a catalog drift check (steward.catalog.drift) per tenant with linked accounts.',
   '0 * * * *', 'catalog.enqueue_drift', '{}', 60),
  ('embeddings.reindex',
   'Nightly: enqueue an evidence re-index (steward.evidence.reindex) per tenant: new proposals, tool outputs and audit entries are collected and embedded with the configured model.',
   '30 3 * * *', 'embeddings.reindex', '{}', 60),
  ('outbox.recover-leases',
   'Every 5 minutes: return envelopes whose worker lease expired to pending (or the DLQ), also when no worker runs.',
   '*/5 * * * *', 'outbox.recover_expired_leases', '{"max_attempts": {"low": 5, "medium": 3, "high": 2}, "limit": 1000}', 60),
  ('outbox.purge-finished',
   'Nightly: delete finished envelopes (success, conflict, rejected) older than older_than (default 30 days), in batches.',
   '15 4 * * *', 'outbox.purge_finished', '{"older_than": "30 days", "batch_size": 1000, "max_batches": 100}', 600),
  ('scheduler.purge-runs',
   'Nightly: delete job runs older than older_than (default 90 days) from the run log.',
   '45 4 * * *', 'scheduler.purge_runs', '{"older_than": "90 days"}', 300);

-- ---------------------------------------------------------------------------
-- Grants: execute for the service role only (anon and authenticated have no usage on
-- schema steward anyway).
revoke all on function
  steward.cron_field_values(text, integer, integer), steward.schedule_interval_seconds(text),
  steward.schedule_is_valid(text), steward.cron_ticks(text, timestamptz, timestamptz),
  steward.schedule_gap(text, timestamptz, timestamptz), steward.schedule_latest_tick(text, timestamptz),
  steward.record_missed_ticks(text, timestamptz, text, text),
  steward.begin_job_run(text, text, timestamptz, text),
  steward.skip_job_tick(text, text, timestamptz, text, bigint),
  steward.execute_job_run(bigint), steward.fail_job_run(bigint, text),
  steward.job_cron_command(text), steward.audit_job_change(text, text, text, jsonb, jsonb),
  steward.set_job_enabled(text, boolean, text),
  steward.configure_job(text, text, text, integer, jsonb),
  steward.acquire_scheduler_lease(text, integer, text), steward.release_scheduler_lease(text, text),
  steward.purge_finished_envelopes(interval, integer, timestamptz),
  steward.enqueue_system_envelopes(jsonb, text), steward.job_external_id(text, timestamptz, text),
  steward.job_enqueue_catalog_refresh(text, jsonb, timestamptz),
  steward.job_enqueue_catalog_drift(text, jsonb, timestamptz),
  steward.job_reindex_embeddings(text, jsonb, timestamptz),
  steward.job_recover_expired_leases(text, jsonb, timestamptz),
  steward.job_purge_finished_envelopes(text, jsonb, timestamptz),
  steward.job_purge_job_runs(text, jsonb, timestamptz)
  from public;
revoke all on procedure steward.run_job(text, text, text) from public;
grant execute on function
  steward.cron_field_values(text, integer, integer), steward.schedule_interval_seconds(text),
  steward.schedule_is_valid(text), steward.cron_ticks(text, timestamptz, timestamptz),
  steward.schedule_gap(text, timestamptz, timestamptz), steward.schedule_latest_tick(text, timestamptz),
  steward.record_missed_ticks(text, timestamptz, text, text),
  steward.begin_job_run(text, text, timestamptz, text),
  steward.skip_job_tick(text, text, timestamptz, text, bigint),
  steward.execute_job_run(bigint), steward.fail_job_run(bigint, text),
  steward.job_cron_command(text), steward.audit_job_change(text, text, text, jsonb, jsonb),
  steward.set_job_enabled(text, boolean, text),
  steward.configure_job(text, text, text, integer, jsonb),
  steward.acquire_scheduler_lease(text, integer, text), steward.release_scheduler_lease(text, text),
  steward.purge_finished_envelopes(interval, integer, timestamptz),
  steward.enqueue_system_envelopes(jsonb, text), steward.job_external_id(text, timestamptz, text),
  steward.job_enqueue_catalog_refresh(text, jsonb, timestamptz),
  steward.job_enqueue_catalog_drift(text, jsonb, timestamptz),
  steward.job_reindex_embeddings(text, jsonb, timestamptz),
  steward.job_recover_expired_leases(text, jsonb, timestamptz),
  steward.job_purge_finished_envelopes(text, jsonb, timestamptz),
  steward.job_purge_job_runs(text, jsonb, timestamptz)
  to service_role;
grant execute on procedure steward.run_job(text, text, text) to service_role;
