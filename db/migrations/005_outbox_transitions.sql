-- 005_outbox_transitions: the outbox state machine (DESIGN.md §5) as SQL functions, so
-- that workers, operators (CLI, REST) and pg_cron all drive the same transitions.
--
--   claim                pending → in_progress (lease, worker id), per-tenant limits kept
--   complete             in_progress → success | conflict | pending (retry, defer)
--                        | awaiting_approval | rejected | outbox_dlq, lease-checked
--   extend leases        heartbeat of a running worker
--   recover leases       in_progress with an expired lease → pending (abandoned), or DLQ
--   approve / reject     awaiting_approval → pending (approved) | rejected
--   requeue              outbox_dlq → pending, attempts reset (drain, retry-dlq)
--
-- Lock order, the same in every function here, so that concurrent workers cannot
-- deadlock: a tenant's slot row (steward.tenant_slots, in tenant order) before its
-- outbox rows, and both before its audit chain's advisory lock (taken by the audit_log
-- trigger). The outbox statement triggers update slot rows at the end of a statement,
-- after its audit rows, so every function that changes running counts locks the slot
-- rows it will need first.
--
-- Every transition writes one audit_log row per envelope in the same transaction
-- (category `outbox` or `approval`). Worker functions live in `steward` (execute for
-- service_role only); approve/reject are RPCs in `public` that tenants may call for
-- their own envelopes. `p_now` defaults to the database clock; tests pass their own.

-- ---------------------------------------------------------------------------
-- Running envelopes per tenant. Kept by statement triggers on outbox (below), whatever
-- path changes a row, so it always equals the count of in_progress rows; claim locks a
-- tenant's row to hand out its free slots, which makes the limit exact across workers.
create table steward.tenant_slots (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  running integer not null default 0 check (running >= 0)
);
alter table steward.tenant_slots enable row level security;
create policy service_role_full_access on steward.tenant_slots as permissive for all to service_role
  using (true) with check (true);
revoke all on table steward.tenant_slots from public, anon, authenticated;
grant select, insert, update, delete on table steward.tenant_slots to service_role;

-- A database migrating with envelopes already running starts with their true counts.
insert into steward.tenant_slots (tenant_id, running)
select tenant_id, count(*) from public.outbox where status = 'in_progress' group by tenant_id;

-- Adds per-tenant deltas of running envelopes.
create or replace function steward.add_running(deltas jsonb) returns void
language sql as $$
  insert into steward.tenant_slots as s (tenant_id, running)
  select (d.key)::uuid, greatest((d.value)::int, 0) from jsonb_each_text(deltas) d
  on conflict (tenant_id) do update set running = s.running + (deltas ->> s.tenant_id::text)::int
$$;

-- One NOTIFY per statement (not per row) on channel `steward_outbox`: the tenants whose
-- envelopes changed and how many became claimable. Listeners re-read rows; the payload
-- is only a nudge, capped far below NOTIFY's 8000-byte limit.
create or replace function steward.notify_outbox(tenants uuid[], claimable bigint, awaiting bigint) returns void
language sql as $$
  select pg_notify('steward_outbox', json_build_object(
    'tenants', case when cardinality(tenants) <= 100 then to_json(tenants) end,
    'claimable', claimable,
    'awaiting_approval', awaiting)::text)
  where cardinality(tenants) > 0
$$;

create or replace function steward.outbox_after_insert() returns trigger
language plpgsql as $$
begin
  perform steward.add_running(d.deltas) from (
    select jsonb_object_agg(tenant_id, n) as deltas
      from (select tenant_id, count(*) as n from inserted where status = 'in_progress' group by tenant_id) c
  ) d where d.deltas is not null;
  perform steward.notify_outbox(array(select distinct tenant_id from inserted),
    (select count(*) from inserted where status = 'pending'),
    (select count(*) from inserted where status = 'awaiting_approval'));
  return null;
end $$;

create or replace function steward.outbox_after_update() returns trigger
language plpgsql as $$
begin
  perform steward.add_running(d.deltas) from (
    select jsonb_object_agg(tenant_id, n) as deltas from (
      select tenant_id, sum(n) as n from (
        select tenant_id, 1 as n from updated where status = 'in_progress'
        union all
        select tenant_id, -1 from previous where status = 'in_progress'
      ) x group by tenant_id having sum(n) <> 0
    ) c
  ) d where d.deltas is not null;
  perform steward.notify_outbox(
    array(select distinct tenant_id from updated),
    -- claimable: rows that became pending, plus slots freed by rows leaving in_progress
    -- (the tenant's next envelope may start)
    (select count(*) from updated u join previous p using (id)
      where u.status = 'pending' and p.status <> 'pending')
      + (select count(*) from previous p join updated u using (id)
          where p.status = 'in_progress' and u.status <> 'in_progress'),
    (select count(*) from updated where status = 'awaiting_approval'));
  return null;
end $$;

create or replace function steward.outbox_after_delete() returns trigger
language plpgsql as $$
begin
  perform steward.add_running(d.deltas) from (
    select jsonb_object_agg(tenant_id, -n) as deltas
      from (select tenant_id, count(*) as n from previous where status = 'in_progress' group by tenant_id) c
  ) d where d.deltas is not null;
  perform steward.notify_outbox(array(select distinct tenant_id from previous),
    (select count(*) from previous where status = 'in_progress'), 0);
  return null;
end $$;

-- Transition tables allow one event per trigger, hence three.
create trigger outbox_after_insert after insert on public.outbox
  referencing new table as inserted for each statement execute function steward.outbox_after_insert();
create trigger outbox_after_update after update on public.outbox
  referencing old table as previous new table as updated for each statement execute function steward.outbox_after_update();
create trigger outbox_after_delete after delete on public.outbox
  referencing old table as previous for each statement execute function steward.outbox_after_delete();

-- ---------------------------------------------------------------------------
-- claim: up to p_limit due envelopes, never more per tenant than its free slots.
-- 1. Candidates: due pending rows of tenants not already at their limit, oldest first,
--    locked with SKIP LOCKED (another worker's candidates are passed over). Leaving out
--    saturated tenants keeps one tenant's backlog from filling every batch.
-- 2. The candidates' slot rows are locked in tenant order, skipping any another worker
--    holds right now (its tenant waits for the next claim: a claim never waits); the next
--    statement then sees each locked tenant's current count, so two workers can never
--    both fill the last slot.
-- 3. Per tenant, the oldest candidates up to its free slots are claimed and audited.
create or replace function steward.claim_envelopes(
  p_worker text, p_limit integer, p_lease_seconds integer, p_now timestamptz default now()
) returns setof public.outbox
language plpgsql as $$
declare
  candidates uuid[];
  tenant_ids uuid[];
  locked uuid[];
begin
  if p_worker is null or length(p_worker) = 0 then
    raise exception 'claim_envelopes: p_worker is required' using errcode = '22023';
  end if;
  if p_limit is null or p_limit < 1 or p_lease_seconds is null or p_lease_seconds < 1 then
    raise exception 'claim_envelopes: p_limit and p_lease_seconds must be positive' using errcode = '22023';
  end if;

  select array_agg(c.id), array_agg(distinct c.tenant_id) into candidates, tenant_ids from (
    select o.id, o.tenant_id from public.outbox o
     where o.status = 'pending' and o.next_run_at <= p_now
       and not exists (select from steward.tenant_slots s join public.tenants t on t.id = s.tenant_id
                        where s.tenant_id = o.tenant_id and s.running >= t.concurrency_limit)
     order by o.next_run_at, o.created_at
     limit p_limit * 4
     for update of o skip locked
  ) c;
  if candidates is null then
    return;
  end if;

  insert into steward.tenant_slots (tenant_id) select unnest(tenant_ids) on conflict do nothing;
  select array_agg(s.tenant_id) into locked from (
    select tenant_id from steward.tenant_slots where tenant_id = any(tenant_ids)
     order by tenant_id for update skip locked) s;
  if locked is null then
    return;
  end if;

  return query
  with ranked as (
    select o.id, o.tenant_id, o.next_run_at, o.created_at,
           row_number() over (partition by o.tenant_id order by o.next_run_at, o.created_at) as rn
      from public.outbox o where o.id = any(candidates)
  ), chosen as (
    select r.id from ranked r
      join steward.tenant_slots s on s.tenant_id = r.tenant_id
      join public.tenants t on t.id = r.tenant_id
     where r.tenant_id = any(locked) and r.rn <= t.concurrency_limit - s.running
     order by r.next_run_at, r.created_at
     limit p_limit
  ), claimed as (
    update public.outbox o
       set status = 'in_progress', locked_by = p_worker,
           locked_until = p_now + make_interval(secs => p_lease_seconds)
      from chosen c where o.id = c.id
    returning o.*
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select c.tenant_id, 'worker', p_worker, 'outbox', jsonb_build_object(
             'envelope_id', c.id, 'tool_slug', c.tool_slug, 'transition', 'claim',
             'from', 'pending', 'to', 'in_progress', 'attempt', c.attempts + 1)
      from claimed c order by c.tenant_id, c.id
  )
  select * from claimed;
end $$;

-- extend: the lease heartbeat. Returns the ids whose lease this worker still holds.
create or replace function steward.extend_leases(
  p_worker text, p_ids uuid[], p_lease_seconds integer, p_now timestamptz default now()
) returns setof uuid
language sql as $$
  update public.outbox set locked_until = p_now + make_interval(secs => p_lease_seconds)
   where id = any(p_ids) and status = 'in_progress' and locked_by = p_worker
  returning id
$$;

-- complete: a batch of outcomes from one worker, one statement. Each outcome is
--   {id, to, transition, attempted, error?, result?, next_run_at?, latency_ms?, decision?}
-- with `to` one of success, conflict, pending (retry or defer), awaiting_approval,
-- rejected, dlq. Applied only while the envelope is in_progress under this worker's
-- lease; every input id comes back with `applied` saying whether it was (River's
-- JobSetStateIfRunningMany). `attempted` = the executor ran (counts as an attempt).
create or replace function steward.complete_envelopes(p_worker text, p_outcomes jsonb, p_now timestamptz default now())
returns table (id uuid, applied boolean, status text)
language plpgsql as $$
begin
  -- The slot rows this completion will decrement, first (see the lock order above).
  perform from steward.tenant_slots s
   where s.tenant_id in (select o.tenant_id from public.outbox o
                          where o.id in (select (e ->> 'id')::uuid from jsonb_array_elements(p_outcomes) e))
   order by s.tenant_id
   for update;

  return query
  with input as (
    select * from jsonb_to_recordset(p_outcomes) as i(
      id uuid, "to" text, transition text, attempted boolean, error text, result jsonb,
      next_run_at timestamptz, latency_ms numeric, decision jsonb)
  ), checked as (
    select i.* from input i
     where i."to" in ('success', 'conflict', 'pending', 'awaiting_approval', 'rejected', 'dlq')
  ), moved as (
    delete from public.outbox o using checked i
     where o.id = i.id and i."to" = 'dlq' and o.status = 'in_progress' and o.locked_by = p_worker
    returning o.*, i.attempted as i_attempted, i.error as i_error, i.result as i_result
  ), dead as (
    insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, connected_account_id, risk,
                                   external_id, trust_context, metadata, status, attempts, last_error,
                                   result, created_at, moved_at)
    select m.id, m.tenant_id, m.tool_slug, m.arguments, m.connected_account_id, m.risk, m.external_id,
           m.trust_context, m.metadata, 'dlq', m.attempts + m.i_attempted::int, m.i_error,
           coalesce(m.i_result, m.result), m.created_at, p_now
      from moved m
    returning outbox_dlq.id, outbox_dlq.tenant_id, outbox_dlq.tool_slug, outbox_dlq.attempts
  ), updated as (
    update public.outbox o
       set status = i."to",
           attempts = o.attempts + coalesce(i.attempted, false)::int,
           last_error = case when i."to" = 'success' then null else coalesce(i.error, o.last_error) end,
           result = coalesce(i.result, o.result),
           next_run_at = case when i."to" = 'pending' then coalesce(i.next_run_at, p_now) else o.next_run_at end,
           locked_by = null, locked_until = null
      from checked i
     where o.id = i.id and i."to" <> 'dlq' and o.status = 'in_progress' and o.locked_by = p_worker
    returning o.id, o.tenant_id, o.tool_slug, o.attempts, o.status
  ), done as (
    select d.id, d.tenant_id, d.tool_slug, d.attempts, 'dlq'::text as status from dead d
    union all
    select u.id, u.tenant_id, u.tool_slug, u.attempts, u.status from updated u
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select d.tenant_id, 'worker', p_worker, 'outbox', jsonb_strip_nulls(jsonb_build_object(
             'envelope_id', d.id, 'tool_slug', d.tool_slug,
             -- the names of src/domain/envelope-status.ts; the worker may name it itself
             'transition', coalesce(i.transition, case d.status
               when 'success' then 'succeed' when 'rejected' then 'reject'
               when 'awaiting_approval' then 'await_approval' when 'dlq' then 'dead_letter'
               when 'pending' then case when i.attempted then 'retry' else 'defer' end
               else d.status end),
             'from', 'in_progress', 'to', d.status,
             'attempt', d.attempts, 'latency_ms', i.latency_ms, 'error', i.error,
             'next_run_at', case when d.status = 'pending' then i.next_run_at end,
             'decision', i.decision))
      from done d join input i on i.id = d.id
     order by d.tenant_id, d.id
  )
  select i.id, d.id is not null, coalesce(d.status, o.status, q.status)
    from input i
    left join done d on d.id = i.id
    left join public.outbox o on o.id = i.id
    left join public.outbox_dlq q on q.id = i.id;
end $$;

-- recover: envelopes whose worker stopped renewing its lease. The attempt counts (the
-- executor may have run: at-least-once); past the tier's maximum the envelope is
-- dead-lettered instead of retried. p_max_attempts: {"low": n, "medium": n, "high": n}.
create or replace function steward.recover_expired_leases(
  p_max_attempts jsonb, p_now timestamptz default now(), p_limit integer default 1000
) returns table (id uuid, status text)
language plpgsql as $$
declare
  tenant_ids uuid[];
begin
  -- The tenants with expired leases, and their slot rows, before any outbox row (see the
  -- lock order above); only those tenants' rows are then taken.
  select array_agg(distinct e.tenant_id) into tenant_ids from (
    select o.tenant_id from public.outbox o
     where o.status = 'in_progress' and o.locked_until < p_now
     order by o.locked_until limit p_limit) e;
  if tenant_ids is null then
    return;
  end if;
  perform from steward.tenant_slots s where s.tenant_id = any(tenant_ids) order by s.tenant_id for update;

  return query
  with expired as (
    select o.id, o.tenant_id, o.locked_by,
           o.attempts + 1 >= coalesce((p_max_attempts ->> o.risk)::int, 1) as exhausted
      from public.outbox o
     where o.status = 'in_progress' and o.locked_until < p_now and o.tenant_id = any(tenant_ids)
     order by o.locked_until
     limit p_limit
     for update skip locked
  ), moved as (
    delete from public.outbox o using expired e where o.id = e.id and e.exhausted
    returning o.*, e.locked_by as e_worker
  ), dead as (
    insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, connected_account_id, risk,
                                   external_id, trust_context, metadata, status, attempts, last_error,
                                   result, created_at, moved_at)
    select m.id, m.tenant_id, m.tool_slug, m.arguments, m.connected_account_id, m.risk, m.external_id,
           m.trust_context, m.metadata, 'dlq', m.attempts + 1,
           format('lease expired: worker %s stopped responding; attempts exhausted', m.e_worker),
           m.result, m.created_at, p_now
      from moved m
    returning outbox_dlq.id, outbox_dlq.tenant_id, outbox_dlq.tool_slug, outbox_dlq.attempts
  ), retried as (
    update public.outbox o
       set status = 'pending', attempts = o.attempts + 1, next_run_at = p_now,
           last_error = format('lease expired: worker %s stopped responding', e.locked_by),
           locked_by = null, locked_until = null
      from expired e where o.id = e.id and not e.exhausted
    returning o.id, o.tenant_id, o.tool_slug, o.attempts, e.locked_by as worker
  ), done as (
    select d.id, d.tenant_id, d.tool_slug, d.attempts, 'dlq'::text as status, m.e_worker as worker
      from dead d join moved m on m.id = d.id
    union all
    select r.id, r.tenant_id, r.tool_slug, r.attempts, 'pending', r.worker from retried r
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select d.tenant_id, 'worker', 'lease-recovery', 'outbox', jsonb_build_object(
             'envelope_id', d.id, 'tool_slug', d.tool_slug,
             'transition', case when d.status = 'dlq' then 'dead_letter' else 'abandon' end,
             'from', 'in_progress', 'to', d.status, 'attempt', d.attempts, 'worker', d.worker,
             'error', 'lease expired')
      from done d order by d.tenant_id, d.id
  )
  select d.id, d.status from done d;
end $$;

-- requeue: dead-lettered envelopes back to pending with attempts reset (the original's
-- drain and retry-dlq). One envelope (p_envelope) or up to p_limit of one tenant (or all).
create or replace function steward.requeue_dead_letters(
  p_actor text, p_tenant uuid default null, p_envelope uuid default null,
  p_limit integer default 50, p_now timestamptz default now()
) returns setof uuid
language plpgsql as $$
begin
  return query
  with picked as (
    select q.id from public.outbox_dlq q
     where (p_tenant is null or q.tenant_id = p_tenant) and (p_envelope is null or q.id = p_envelope)
     order by q.moved_at, q.id
     limit p_limit
     for update skip locked
  ), moved as (
    delete from public.outbox_dlq q using picked p where q.id = p.id returning q.*
  ), requeued as (
    insert into public.outbox (id, tenant_id, tool_slug, arguments, connected_account_id, risk, external_id,
                               trust_context, metadata, status, attempts, next_run_at, last_error, result, created_at)
    select m.id, m.tenant_id, m.tool_slug, m.arguments, m.connected_account_id, m.risk, m.external_id,
           m.trust_context, m.metadata, 'pending', 0, p_now, null, m.result, m.created_at
      from moved m
    returning outbox.id, outbox.tenant_id, outbox.tool_slug
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select r.tenant_id, 'operator', p_actor, 'outbox', jsonb_build_object(
             'envelope_id', r.id, 'tool_slug', r.tool_slug, 'transition', 'requeue',
             'from', 'dlq', 'to', 'pending', 'attempt', 0)
      from requeued r order by r.tenant_id, r.id
  )
  select r.id from requeued r;
end $$;

revoke all on function steward.add_running(jsonb), steward.notify_outbox(uuid[], bigint, bigint),
  steward.claim_envelopes(text, integer, integer, timestamptz),
  steward.extend_leases(text, uuid[], integer, timestamptz),
  steward.complete_envelopes(text, jsonb, timestamptz),
  steward.recover_expired_leases(jsonb, timestamptz, integer),
  steward.requeue_dead_letters(text, uuid, uuid, integer, timestamptz)
  from public;
grant execute on function steward.add_running(jsonb), steward.notify_outbox(uuid[], bigint, bigint),
  steward.claim_envelopes(text, integer, integer, timestamptz),
  steward.extend_leases(text, uuid[], integer, timestamptz),
  steward.complete_envelopes(text, jsonb, timestamptz),
  steward.recover_expired_leases(jsonb, timestamptz, integer),
  steward.requeue_dead_letters(text, uuid, uuid, integer, timestamptz)
  to service_role;

-- ---------------------------------------------------------------------------
-- Approvals: RPCs a tenant may call for its own envelopes (and the service role for any).
-- Security definer, so the checks are explicit: the caller is the service role, or an
-- authenticated token whose tenant_id owns the envelope. Another tenant's envelope is
-- reported as not found, exactly as RLS would hide it.
create or replace function public.decide_approval(p_envelope uuid, p_approve boolean, p_reason text, p_now timestamptz)
returns public.outbox
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  claims jsonb := coalesce(auth.jwt(), '{}'::jsonb);
  is_service boolean := claims ->> 'role' = 'service_role';
  actor text := coalesce(claims ->> 'sub', claims ->> 'role', 'unknown');
  env public.outbox;
begin
  if not is_service and (claims ->> 'role' is distinct from 'authenticated' or public.current_tenant_id_uuid() is null) then
    raise exception 'approvals need a tenant token or the service role' using errcode = '42501';
  end if;
  select * into env from public.outbox o
   where o.id = p_envelope and (is_service or o.tenant_id = public.current_tenant_id_uuid())
   for update;
  if not found then
    raise exception 'envelope % not found', p_envelope using errcode = 'P0002';
  end if;
  if env.status <> 'awaiting_approval' then
    raise exception 'envelope % is %, not awaiting_approval', p_envelope, env.status using errcode = '55000';
  end if;

  update public.outbox o
     set status = case when p_approve then 'pending' else 'rejected' end,
         approved_at = case when p_approve then p_now end,
         approved_by = case when p_approve then actor end,
         next_run_at = case when p_approve then p_now else o.next_run_at end,
         last_error = case when p_approve then o.last_error else coalesce('rejected: ' || p_reason, 'rejected') end
   where o.id = p_envelope
  returning * into env;

  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (env.tenant_id, case when is_service then 'operator' else 'user' end, actor, 'approval',
          jsonb_strip_nulls(jsonb_build_object(
            'envelope_id', env.id, 'tool_slug', env.tool_slug,
            'transition', case when p_approve then 'approve' else 'deny' end,
            'from', 'awaiting_approval', 'to', env.status, 'reason', p_reason)));
  perform pg_notify('steward_approvals', json_build_object(
    'tenant_id', env.tenant_id, 'envelope_id', env.id, 'status', env.status)::text);
  return env;
end $$;

-- Definer too: they call decide_approval, which only the service role may call directly.
create or replace function public.approve_envelope(p_envelope uuid, p_reason text default null)
returns public.outbox language sql security definer set search_path = pg_catalog, public as $$
  select public.decide_approval(p_envelope, true, p_reason, now())
$$;
create or replace function public.reject_envelope(p_envelope uuid, p_reason text default null)
returns public.outbox language sql security definer set search_path = pg_catalog, public as $$
  select public.decide_approval(p_envelope, false, p_reason, now())
$$;

revoke all on function public.decide_approval(uuid, boolean, text, timestamptz),
  public.approve_envelope(uuid, text), public.reject_envelope(uuid, text) from public, anon;
grant execute on function public.approve_envelope(uuid, text), public.reject_envelope(uuid, text)
  to authenticated, service_role;
-- decide_approval takes the clock as a parameter for tests; only the service role may pass one.
grant execute on function public.decide_approval(uuid, boolean, text, timestamptz) to service_role;
