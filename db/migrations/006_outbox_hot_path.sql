-- The outbox's hot path, second round: enqueue as a SQL function, and completion
-- planned for a large outbox.

-- Enqueue as a SQL function (DESIGN.md §1), so the CLI, the services, cron and a future
-- RPC all queue envelopes with one meaning: idempotent per (tenant_id, external_id),
-- also against the DLQ, audited in the same transaction, one round trip.

-- p_envelopes: a JSON array of {ord, tenant_id, tool_slug, arguments, connected_account_id,
-- risk, external_id, trust_context, metadata, next_run_at, actor_type, actor_id}; the
-- caller has validated them and generated every external_id (a retry must reuse them).
-- Returns, per ord, the envelope wherever it now is (outbox row first if a concurrent
-- move left it in both for this snapshot), whether this call created it, and whether
-- its tenant exists (an unknown tenant comes back as one row of nulls). Raises 40001
-- (serialization_failure: run it again) when a concurrent transaction moved or removed
-- the same key meanwhile.
-- One enqueued key as the function answers it: the envelope from either table (the
-- outbox row's columns, the DLQ's moved_at), plus what the caller needs to interpret it.
create type steward.enqueued_envelope as (
  ord int, created boolean, tenant_exists boolean,
  id uuid, tenant_id uuid, tool_slug text, arguments jsonb, connected_account_id text, risk text,
  external_id text, trust_context jsonb, metadata jsonb, status text, attempts integer,
  last_error text, result jsonb, created_at timestamptz, next_run_at timestamptz, locked_by text,
  locked_until timestamptz, approved_at timestamptz, approved_by text, updated_at timestamptz,
  moved_at timestamptz
);

create or replace function steward.enqueue_envelopes(p_envelopes jsonb)
returns setof steward.enqueued_envelope
language plpgsql set search_path = pg_catalog, public as $$
declare
  created_ids jsonb;
  r steward.enqueued_envelope;
begin
  -- 1. Insert what is new. Unknown tenants and keys already dead-lettered are skipped;
  -- keys already in outbox are skipped by ON CONFLICT, which also waits out a concurrent
  -- insert of the same key. Sorted by key so concurrent batches lock in one order. A
  -- batch naming a key twice creates it once, for its first occurrence.
  with input as (
    select * from jsonb_to_recordset(p_envelopes) as i(
      ord int, tenant_id uuid, tool_slug text, arguments jsonb, connected_account_id text, risk text,
      external_id text, trust_context jsonb, metadata jsonb, next_run_at timestamptz)
  ), inserted as (
    insert into public.outbox (tenant_id, tool_slug, arguments, connected_account_id, risk, external_id,
                               trust_context, metadata, next_run_at)
    select i.tenant_id, i.tool_slug, i.arguments, i.connected_account_id,
           -- the catalog entry the catalog service also calls current: the last updated
           coalesce(i.risk, (select c.risk from public.tool_catalog c
                              where c.tenant_id = i.tenant_id and c.tool_slug = i.tool_slug
                              order by c.updated_at desc, c.id desc limit 1), 'medium'),
           i.external_id, coalesce(i.trust_context, '{}'), coalesce(i.metadata, '{}'),
           coalesce(i.next_run_at, now())
      from input i
     where exists (select from public.tenants t where t.id = i.tenant_id)
       and not exists (select from public.outbox_dlq d where d.tenant_id = i.tenant_id and d.external_id = i.external_id)
     order by i.tenant_id, i.external_id, i.ord
    on conflict (tenant_id, external_id) do nothing
    returning outbox.id, outbox.tenant_id, outbox.external_id
  )
  select coalesce(jsonb_object_agg(first.ord::text, first.id), '{}') into created_ids
    from (select distinct on (n.id) i.ord, n.id
            from inserted n join input i on i.tenant_id = n.tenant_id and i.external_id = n.external_id
           order by n.id, i.ord) first;

  -- Each statement below takes a fresh snapshot (read committed, volatile function): it
  -- sees what concurrent transactions committed meanwhile.

  -- 2. Audit what was created, in tenant order (the chain trigger locks per tenant).
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  select o.tenant_id, coalesce(k.actor_type, 'agent'), coalesce(k.actor_id, 'control-plane'), 'outbox',
         jsonb_build_object('envelope_id', o.id, 'tool_slug', o.tool_slug, 'transition', 'enqueue', 'from', null,
                            'to', 'pending', 'external_id', o.external_id)
    from jsonb_to_recordset(p_envelopes) as k(ord int, actor_type text, actor_id text)
    join public.outbox o on o.id = (created_ids ->> k.ord::text)::uuid
   order by o.tenant_id, o.external_id;

  -- 3. Read every key back from wherever it now is, in one snapshot. Two things in it
  -- mean a concurrent transaction moved or removed the same key between the statements
  -- above: created now yet also dead-lettered (the DLQ row was committed after
  -- statement 1's snapshot), or a key of an existing tenant found nowhere (the row that
  -- blocked our insert was removed meanwhile). Then the caller runs it all again.
  for r in
    select k.ord, created_ids ? k.ord::text, exists (select from public.tenants t where t.id = k.tenant_id), e.*
      from jsonb_to_recordset(p_envelopes) as k(ord int, tenant_id uuid, external_id text)
      left join lateral (
        select o.id, o.tenant_id, o.tool_slug, o.arguments, o.connected_account_id, o.risk, o.external_id,
               o.trust_context, o.metadata, o.status, o.attempts, o.last_error, o.result, o.created_at,
               o.next_run_at, o.locked_by, o.locked_until, o.approved_at, o.approved_by, o.updated_at,
               null::timestamptz as moved_at
          from public.outbox o where o.tenant_id = k.tenant_id and o.external_id = k.external_id
        union all
        select d.id, d.tenant_id, d.tool_slug, d.arguments, d.connected_account_id, d.risk, d.external_id,
               d.trust_context, d.metadata, d.status, d.attempts, d.last_error, d.result, d.created_at,
               null, null, null, null, null, null, d.moved_at
          from public.outbox_dlq d where d.tenant_id = k.tenant_id and d.external_id = k.external_id
      ) e on true
     order by k.ord, e.moved_at nulls first
  loop
    if (r.created and r.status = 'dlq') or (r.tenant_exists and r.id is null) then
      raise exception 'envelope % changed while it was enqueued', coalesce(r.external_id, r.ord::text)
        using errcode = '40001';
    end if;
    return next r;
  end loop;
end $$;

revoke execute on function steward.enqueue_envelopes(jsonb) from public;
grant execute on function steward.enqueue_envelopes(jsonb) to service_role;

-- complete_envelopes of 005, with every outbox lookup by primary key: the first version
-- scanned the whole outbox twice per call (found profiling the worker with
-- track_functions; its cost grew with the table, not with the batch).
create or replace function steward.complete_envelopes(p_worker text, p_outcomes jsonb, p_now timestamptz default now())
returns table (id uuid, applied boolean, status text)
language plpgsql as $$
declare
  -- As an array, so every lookup below is an index scan: joined to a set-returning
  -- function (estimated at 100 rows), the planner preferred a scan of the whole outbox.
  ids uuid[] := array(select (e ->> 'id')::uuid from jsonb_array_elements(p_outcomes) e);
begin
  -- The slot rows this completion will decrement, first (see the lock order in 005).
  perform from steward.tenant_slots s
   where s.tenant_id in (select o.tenant_id from public.outbox o where o.id = any (ids))
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
     where o.id = any (ids) and o.id = i.id and i."to" = 'dlq' and o.status = 'in_progress' and o.locked_by = p_worker
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
     where o.id = any (ids) and o.id = i.id and i."to" <> 'dlq' and o.status = 'in_progress' and o.locked_by = p_worker
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
  select i.id, d.id is not null,
         coalesce(d.status, (select o.status from public.outbox o where o.id = i.id),
                  (select q.status from public.outbox_dlq q where q.id = i.id))
    from input i
    left join done d on d.id = i.id;
end $$;

-- The wake-ups of 005, counting a freed slot as claimable only when its tenant has a
-- pending envelope: otherwise every outcome woke every idle worker into an empty claim
-- (found measuring enqueue→execute latency: three claims per envelope).
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
    -- of tenants with an envelope waiting
    (select count(*) from updated u join previous p using (id)
      where u.status = 'pending' and p.status <> 'pending')
      + (select count(*) from previous p join updated u using (id)
          where p.status = 'in_progress' and u.status <> 'in_progress'
            and exists (select from public.outbox o where o.tenant_id = p.tenant_id and o.status = 'pending')),
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
    (select count(*) from previous p
      where p.status = 'in_progress'
        and exists (select from public.outbox o where o.tenant_id = p.tenant_id and o.status = 'pending')), 0);
  return null;
end $$;
