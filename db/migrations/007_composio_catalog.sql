-- 007_composio_catalog: what the Composio catalog sync, the drift monitor and the trickle
-- refresh need (docs/implementation/composio-tooling.md):
--
--   tool_catalog          + toolkit, derived_risk, removed_at (the sync's own columns)
--   catalog_audit         + run_id (the rows of one sync run are one drift snapshot)
--   tool_risk_overrides   a tenant's own risk tier for a tool, over the rule's
--   rate_buckets          token buckets in rows (steward.take_tokens), so every worker
--                         process shares them
--   steward.catalog_sync_checkpoints   where a sync of one tenant's toolkit stands: a
--                         crashed sync resumes from its cursor
--
-- and the functions that change them atomically and audited:
--   steward.record_catalog_changes     upsert entries + catalog_audit rows + hold envelopes
--   steward.flag_envelopes_for_approval  pending → awaiting_approval (transition flag_for_approval)
--   steward.finish_catalog_sync        complete a run, one audit_log entry when it changed anything
--   steward.take_tokens                the token bucket
--   steward.enqueue_system_envelope    Steward's own work (steward.* tools) through the outbox

-- The helper of 004_rls, which dropped it after use: the same grants and base policies
-- for this migration's public tables, then dropped again.
create or replace function steward.rls_protect(tbl regclass, tenant_column text) returns void
language plpgsql as $$
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('revoke all on table %s from public, anon, authenticated, service_role', tbl);
  execute format('grant select on table %s to authenticated', tbl);
  execute format('grant select, insert, update, delete, truncate on table %s to service_role', tbl);
  execute format(
    'create policy tenant_isolation on %s as permissive for all to authenticated
       using (%I = (select public.current_tenant_id_uuid()))
       with check (%I = (select public.current_tenant_id_uuid()))', tbl, tenant_column, tenant_column);
  execute format(
    'create policy service_role_full_access on %s as permissive for all to service_role
       using (true) with check (true)', tbl);
end $$;

-- ---------------------------------------------------------------------------
-- tool_catalog: the sync's columns. Rows it did not write (seeded by hand) have a null
-- toolkit and are never touched or reported as removed by it.
alter table public.tool_catalog
  -- Composio's toolkit slug (lower case): what the sync of one toolkit owns.
  add column toolkit text check (toolkit is null or length(btrim(toolkit)) between 1 and 100),
  -- The tier the risk rule derived (src/domain/risk-rule.ts). `risk` is the effective
  -- tier: the tenant's override when there is one, else this.
  add column derived_risk text check (derived_risk in ('low', 'medium', 'high')),
  -- Set when Composio stopped listing the tool. Kept, not deleted: envelopes and audit
  -- rows still name it, and the drift monitor must see it go (and come back).
  add column removed_at timestamptz;
create index tool_catalog_tenant_toolkit_idx on public.tool_catalog (tenant_id, toolkit) where toolkit is not null;

alter table public.catalog_audit add column run_id uuid;
create index catalog_audit_tenant_tool_idx on public.catalog_audit (tenant_id, tool_slug, detected_at desc);

-- ---------------------------------------------------------------------------
-- tool_risk_overrides: a tenant's tier for a tool, whatever the rule says. Keyed by slug
-- (not version) so it holds across versions and may be set before the first sync. The
-- tier is a guardrail (it picks retries; people approve by it), so tenant tokens write it
-- only with scope guardrails:write, like the guardrails row; deletion is the service
-- role's (no tenant DELETE anywhere).
create table public.tool_risk_overrides (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null check (length(tool_slug) between 1 and 200 and tool_slug !~ '\s'),
  risk text not null check (risk in ('low', 'medium', 'high')),
  reason text check (length(reason) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, tool_slug)
);
create trigger tool_risk_overrides_set_updated_at before update on public.tool_risk_overrides
  for each row execute function steward.set_updated_at();
select steward.rls_protect('public.tool_risk_overrides', 'tenant_id');
grant insert (tenant_id, tool_slug, risk, reason), update (risk, reason) on table public.tool_risk_overrides to authenticated;
create policy tool_risk_overrides_insert_requires_scope on public.tool_risk_overrides
  as restrictive for insert to authenticated
  with check (public.jwt_has_scopes(array['guardrails:write']));
create policy tool_risk_overrides_update_requires_scope on public.tool_risk_overrides
  as restrictive for update to authenticated
  using (public.jwt_has_scopes(array['guardrails:write']))
  with check (public.jwt_has_scopes(array['guardrails:write']));

-- An override takes effect at once on every version of the tool in the catalog, and is
-- audited (category `catalog`). Definer: tenants may not write tool_catalog or audit_log.
create or replace function steward.apply_risk_override() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  claims jsonb := coalesce(auth.jwt(), '{}'::jsonb);
  tenant uuid;
  slug text;
  from_risk text;
  to_risk text;
  reason text;
begin
  -- NEW / OLD only where the operation has them.
  if tg_op = 'DELETE' then
    tenant := old.tenant_id; slug := old.tool_slug; from_risk := old.risk;
  else
    tenant := new.tenant_id; slug := new.tool_slug; to_risk := new.risk; reason := new.reason;
    if tg_op = 'UPDATE' then
      from_risk := old.risk;
    end if;
  end if;
  -- Deleted: back to the rule's tier (rows the sync did not write keep theirs).
  update public.tool_catalog c
     set risk = coalesce(to_risk, c.derived_risk, c.risk)
   where c.tenant_id = tenant and c.tool_slug = slug
     and c.risk is distinct from coalesce(to_risk, c.derived_risk, c.risk);
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (tenant, case when claims ->> 'role' = 'authenticated' then 'user' else 'operator' end,
          coalesce(claims ->> 'sub', claims ->> 'role', session_user), 'catalog',
          jsonb_strip_nulls(jsonb_build_object(
            'event', 'risk_override', 'tool_slug', slug, 'from', from_risk, 'to', to_risk, 'reason', reason)));
  return null;
end $$;
create trigger tool_risk_overrides_apply after insert or update or delete on public.tool_risk_overrides
  for each row execute function steward.apply_risk_override();

-- ---------------------------------------------------------------------------
-- rate_buckets: token buckets, one row per (tenant, bucket). In rows, not in memory, so
-- every worker process on every machine draws from the same bucket; readable by the
-- tenant (its own), written only through steward.take_tokens.
create table public.rate_buckets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  bucket text not null check (length(bucket) between 1 and 200),
  capacity numeric not null check (capacity > 0),
  refill_per_second numeric not null check (refill_per_second > 0),
  tokens numeric not null check (tokens >= 0 and tokens <= capacity),
  -- The instant `tokens` was last brought up to date.
  refilled_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, bucket)
);
create trigger rate_buckets_set_updated_at before update on public.rate_buckets
  for each row execute function steward.set_updated_at();
select steward.rls_protect('public.rate_buckets', 'tenant_id');

-- Takes p_n tokens if the bucket holds them now, else none. The bucket starts full and
-- gains p_refill_per_second up to p_capacity (capacity and rate are the caller's config,
-- recorded on every call so a change applies at once). Returns whether it granted, how
-- long until p_n tokens will be there (0 when granted), and the tokens left. The row is
-- locked for the computation, so concurrent callers are serialised and the bucket never
-- grants more than it holds; a caller whose clock lags the last refill adds nothing.
create or replace function steward.take_tokens(
  p_tenant uuid, p_bucket text, p_n numeric, p_capacity numeric, p_refill_per_second numeric,
  p_now timestamptz default now()
) returns table (granted boolean, wait_ms bigint, tokens numeric)
language plpgsql set search_path = pg_catalog, public as $$
declare
  b public.rate_buckets;
  available numeric;
begin
  if p_n is null or p_n <= 0 then
    raise exception 'take_tokens: n must be positive, not %', p_n using errcode = '22023';
  end if;
  if p_capacity is null or p_capacity <= 0 or p_refill_per_second is null or p_refill_per_second <= 0 then
    raise exception 'take_tokens: capacity and refill_per_second must be positive' using errcode = '22023';
  end if;
  if p_n > p_capacity then
    raise exception 'take_tokens: n (%) exceeds the capacity (%) of bucket %, so it could never be granted', p_n, p_capacity, p_bucket
      using errcode = '22023';
  end if;
  if p_now is null then
    raise exception 'take_tokens: now is required' using errcode = '22023';
  end if;

  insert into public.rate_buckets (tenant_id, bucket, capacity, refill_per_second, tokens, refilled_at)
  values (p_tenant, p_bucket, p_capacity, p_refill_per_second, p_capacity, p_now)
  on conflict (tenant_id, bucket) do nothing;
  select * into b from public.rate_buckets r where r.tenant_id = p_tenant and r.bucket = p_bucket for update;

  available := least(p_capacity,
    b.tokens + greatest(0, extract(epoch from (p_now - b.refilled_at))) * p_refill_per_second);
  update public.rate_buckets r
     set tokens = case when available >= p_n then available - p_n else available end,
         refilled_at = greatest(b.refilled_at, p_now),
         capacity = p_capacity, refill_per_second = p_refill_per_second
   where r.tenant_id = p_tenant and r.bucket = p_bucket;
  if available >= p_n then
    return query select true, 0::bigint, available - p_n;
  else
    return query select false, ceil((p_n - available) / p_refill_per_second * 1000)::bigint, available;
  end if;
end $$;

-- ---------------------------------------------------------------------------
-- Where the sync of one tenant's toolkit stands. Internal (schema steward, service role
-- only, like tenant_slots). One row per (tenant, toolkit): an unfinished run
-- (completed_at null) is resumed from `cursor`; a finished one is replaced by the next run.
create table steward.catalog_sync_checkpoints (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  toolkit text not null,
  run_id uuid not null,
  -- The next page to fetch; null before the first page and once complete.
  cursor text,
  pages integer not null default 0 check (pages >= 0),
  -- The slugs listed so far in this run: what is not among them at the end was removed.
  seen text[] not null default '{}',
  -- The toolkit had no catalog entries when the run began: its tools are a first import,
  -- not drift, so they get no catalog_audit rows.
  baseline boolean not null,
  -- Running totals of the run (added, changed, removed, …), for progress and the audit entry.
  counts jsonb not null default '{}' check (jsonb_typeof(counts) = 'object'),
  started_at timestamptz not null,
  updated_at timestamptz not null,
  completed_at timestamptz,
  primary key (tenant_id, toolkit)
);
alter table steward.catalog_sync_checkpoints enable row level security;
create policy service_role_full_access on steward.catalog_sync_checkpoints as permissive for all to service_role
  using (true) with check (true);
revoke all on table steward.catalog_sync_checkpoints from public, anon, authenticated;
grant select, insert, update, delete on table steward.catalog_sync_checkpoints to service_role;

-- ---------------------------------------------------------------------------
-- flag_for_approval: the tenant's pending envelopes for these tools → awaiting_approval,
-- a person to decide whether they still make sense (the drift monitor, on a breaking
-- change). Any earlier approval is cleared: it was given against the old schema. One
-- audit row per envelope (category outbox), as every transition of 005. Envelopes
-- already running are not stopped: the executor validates their arguments against the
-- catalog before it calls the provider.
-- p_tools: [{tool_slug, reason, catalog_audit_id}], one element per tool.
create or replace function steward.flag_envelopes_for_approval(
  p_tenant uuid, p_tools jsonb, p_actor text, p_now timestamptz default now()
) returns setof uuid
language plpgsql set search_path = pg_catalog, public as $$
begin
  return query
  with tools as (
    select distinct on (t.tool_slug) t.tool_slug, t.reason, t.catalog_audit_id
      from jsonb_to_recordset(p_tools) as t(tool_slug text, reason text, catalog_audit_id bigint)
     order by t.tool_slug
  ), flagged as (
    update public.outbox o
       set status = 'awaiting_approval', approved_at = null, approved_by = null, last_error = t.reason
      from tools t
     where o.tenant_id = p_tenant and o.tool_slug = t.tool_slug and o.status = 'pending'
    returning o.id, o.tenant_id, o.tool_slug, o.attempts, t.reason, t.catalog_audit_id
  ), audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select f.tenant_id, 'system', p_actor, 'outbox', jsonb_strip_nulls(jsonb_build_object(
             'envelope_id', f.id, 'tool_slug', f.tool_slug, 'transition', 'flag_for_approval',
             'from', 'pending', 'to', 'awaiting_approval', 'attempt', f.attempts,
             'reason', f.reason, 'catalog_audit_id', f.catalog_audit_id))
      from flagged f order by f.id
  )
  select f.id from flagged f;
end $$;

-- ---------------------------------------------------------------------------
-- One page (or the removals) of a catalog sync, applied atomically:
--   p_entries  [{tool_slug, version, display_name, description, schema, required_scopes,
--                derived_risk, make_current}]: upserted for (p_tenant, slug, version),
--              written only where something differs (no updated_at churn); `risk` is the
--              tenant's override, else derived_risk. make_current: the version is not the
--              slug's current one (a version Composio went back to), so its row is touched
--              to become the most recently updated, which is what "current" means.
--   p_changes  [{tool_slug, change, from_version, to_version, breaking, diff}]: one
--              catalog_audit row each; `removed` marks every version of the tool removed;
--              breaking ones hold the tool's pending envelopes for approval.
-- The caller (src/integrations/composio/drift-monitor.ts) computed both against the rows
-- it read in this same transaction, under the checkpoint's lock. Lock order as in 005:
-- the envelopes are held (outbox rows) before the tenant's audit chain is taken, so the
-- caller makes this one call per transaction and writes the run's audit entry after it.
create or replace function steward.record_catalog_changes(
  p_tenant uuid, p_toolkit text, p_run uuid, p_entries jsonb, p_changes jsonb, p_actor text,
  p_now timestamptz default now()
) returns table (upserted integer, audited integer, flagged integer)
language plpgsql set search_path = pg_catalog, public as $$
declare
  n_upserted integer;
  n_audited integer;
  n_flagged integer;
  holds jsonb;
begin
  with input as (
    select * from jsonb_to_recordset(p_entries) as i(
      tool_slug text, version text, display_name text, description text, schema jsonb,
      required_scopes text[], derived_risk text)
  ), written as (
    insert into public.tool_catalog as c (tenant_id, toolkit, tool_slug, version, display_name, description,
                                          schema, required_scopes, derived_risk, risk)
    select p_tenant, p_toolkit, i.tool_slug, i.version, i.display_name, i.description, coalesce(i.schema, '{}'),
           coalesce(i.required_scopes, '{}'), i.derived_risk, coalesce(o.risk, i.derived_risk)
      from input i
      left join public.tool_risk_overrides o on o.tenant_id = p_tenant and o.tool_slug = i.tool_slug
     order by i.tool_slug, i.version
    on conflict (tenant_id, tool_slug, version) do update
       set toolkit = excluded.toolkit, display_name = excluded.display_name, description = excluded.description,
           schema = excluded.schema, required_scopes = excluded.required_scopes,
           derived_risk = excluded.derived_risk, risk = excluded.risk, removed_at = null
     where (c.toolkit, c.display_name, c.description, c.schema, c.required_scopes, c.derived_risk, c.risk, c.removed_at)
           is distinct from
           (excluded.toolkit, excluded.display_name, excluded.description, excluded.schema, excluded.required_scopes,
            excluded.derived_risk, excluded.risk, null::timestamptz)
    returning 1
  )
  select count(*) into n_upserted from written;

  -- Rows written above carry this transaction's now() already.
  update public.tool_catalog c set removed_at = null
    from jsonb_to_recordset(p_entries) as i(tool_slug text, version text, make_current boolean)
   where i.make_current and c.tenant_id = p_tenant and c.tool_slug = i.tool_slug and c.version = i.version
     and c.updated_at < now();

  update public.tool_catalog c set removed_at = p_now
    from (select distinct x.tool_slug from jsonb_to_recordset(p_changes) as x(tool_slug text, change text)
           where x.change = 'removed') r
   where c.tenant_id = p_tenant and c.tool_slug = r.tool_slug and c.removed_at is null;

  with audit_rows as (
    insert into public.catalog_audit (tenant_id, run_id, tool_slug, change, from_version, to_version, breaking, diff, detected_at)
    select p_tenant, p_run, x.tool_slug, x.change, x.from_version, x.to_version, coalesce(x.breaking, false),
           coalesce(x.diff, '{}'), p_now
      from jsonb_to_recordset(p_changes) as x(tool_slug text, change text, from_version text, to_version text,
                                              breaking boolean, diff jsonb)
     order by x.tool_slug
    returning id, tool_slug, change, from_version, to_version, breaking
  )
  select count(*), coalesce(jsonb_agg(jsonb_build_object(
           'tool_slug', a.tool_slug, 'catalog_audit_id', a.id,
           'reason', case a.change
             when 'removed' then format('held for approval: tool %s was removed from the Composio catalog (catalog_audit %s)', a.tool_slug, a.id)
             else format('held for approval: breaking change to the schema of %s, %s → %s (catalog_audit %s)',
                         a.tool_slug, a.from_version, a.to_version, a.id)
           end)) filter (where a.breaking), '[]'::jsonb)
    into n_audited, holds
    from audit_rows a;

  select count(*) into n_flagged from steward.flag_envelopes_for_approval(p_tenant, holds, p_actor, p_now);
  return query select n_upserted, n_audited, n_flagged;
end $$;

-- Completes the run of (p_tenant, p_toolkit) and writes its one audit_log entry (category
-- catalog) when it changed anything: a run that found nothing new leaves no trace beyond
-- its checkpoint.
create or replace function steward.finish_catalog_sync(
  p_tenant uuid, p_toolkit text, p_actor text, p_now timestamptz default now()
) returns void
language plpgsql set search_path = pg_catalog, public as $$
declare
  cp steward.catalog_sync_checkpoints;
begin
  update steward.catalog_sync_checkpoints s
     set completed_at = p_now, cursor = null, updated_at = p_now
   where s.tenant_id = p_tenant and s.toolkit = p_toolkit and s.completed_at is null
  returning * into cp;
  if not found then
    raise exception 'no unfinished catalog sync of toolkit % for tenant %', p_toolkit, p_tenant using errcode = 'P0002';
  end if;
  if cp.baseline or exists (
       select from jsonb_each_text(cp.counts) c
        where c.key in ('added', 'changed', 'removed', 'version_only', 'flagged') and c.value::numeric > 0) then
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    values (p_tenant, 'system', p_actor, 'catalog', jsonb_build_object(
              'event', 'catalog_sync', 'toolkit', p_toolkit, 'run_id', cp.run_id, 'baseline', cp.baseline,
              'pages', cp.pages, 'tools', cardinality(cp.seen)) || cp.counts);
  end if;
end $$;

-- ---------------------------------------------------------------------------
-- Steward's own work through the outbox (a "system envelope", tool slug `steward.*`), so
-- it gets the worker's leases, retries, DLQ and audit like any action. Risk `low`, actor
-- `system`, metadata {"system": true}, and marked approved by `steward:system`: the trust
-- and evidence guardrails judge an agent's proposals, and nobody would be there to
-- approve Steward's own refresh. A request equal to one still pending (same tenant, tool
-- and arguments) returns that one instead of queueing a second.
create or replace function steward.enqueue_system_envelope(
  p_tenant uuid, p_tool_slug text, p_arguments jsonb, p_next_run_at timestamptz default null
) returns table (id uuid, created boolean, status text, next_run_at timestamptz)
language plpgsql set search_path = pg_catalog, public as $$
declare
  existing public.outbox;
  e steward.enqueued_envelope;
begin
  if p_tool_slug is null or p_tool_slug !~ '^steward\.[a-z0-9_.]+$' then
    raise exception 'enqueue_system_envelope: tool_slug % is not a system tool (steward.*)', p_tool_slug using errcode = '22023';
  end if;
  if p_arguments is null or jsonb_typeof(p_arguments) <> 'object' then
    raise exception 'enqueue_system_envelope: arguments must be a JSON object' using errcode = '22023';
  end if;
  -- Two concurrent requests for the same work queue it once.
  perform pg_advisory_xact_lock(hashtextextended(
    'steward.system_envelope:' || p_tenant::text || ':' || p_tool_slug || ':' || p_arguments::text, 0));
  select * into existing from public.outbox o
   where o.tenant_id = p_tenant and o.tool_slug = p_tool_slug and o.status = 'pending' and o.arguments = p_arguments
   order by o.created_at limit 1;
  if found then
    return query select existing.id, false, existing.status, existing.next_run_at;
    return;
  end if;

  select * into e from steward.enqueue_envelopes(jsonb_build_array(jsonb_build_object(
    'ord', 1, 'tenant_id', p_tenant, 'tool_slug', p_tool_slug, 'arguments', p_arguments, 'risk', 'low',
    'external_id', p_tool_slug || ':' || gen_random_uuid()::text, 'metadata', jsonb_build_object('system', true),
    'next_run_at', p_next_run_at, 'actor_type', 'system', 'actor_id', 'steward'))) limit 1;
  if e.id is null then
    raise exception 'tenant % not found', p_tenant using errcode = 'P0002';
  end if;
  update public.outbox o set approved_at = now(), approved_by = 'steward:system' where o.id = e.id;
  return query select e.id, true, e.status, e.next_run_at;
end $$;

revoke all on function
  steward.take_tokens(uuid, text, numeric, numeric, numeric, timestamptz),
  steward.flag_envelopes_for_approval(uuid, jsonb, text, timestamptz),
  steward.record_catalog_changes(uuid, text, uuid, jsonb, jsonb, text, timestamptz),
  steward.finish_catalog_sync(uuid, text, text, timestamptz),
  steward.enqueue_system_envelope(uuid, text, jsonb, timestamptz)
  from public;
grant execute on function
  steward.take_tokens(uuid, text, numeric, numeric, numeric, timestamptz),
  steward.flag_envelopes_for_approval(uuid, jsonb, text, timestamptz),
  steward.record_catalog_changes(uuid, text, uuid, jsonb, jsonb, text, timestamptz),
  steward.finish_catalog_sync(uuid, text, text, timestamptz),
  steward.enqueue_system_envelope(uuid, text, jsonb, timestamptz)
  to service_role;
-- A trigger function: runs for whoever writes tool_risk_overrides, never called directly.
revoke all on function steward.apply_risk_override() from public;

drop function steward.rls_protect(regclass, text);
