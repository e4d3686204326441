-- 003_audit: audit_log is append-only for everyone (service role and table owner
-- included) and tamper-evident (a per-tenant hash chain), and every policy change is
-- itself audited (category `auth_policy`). Created before 004_rls so that the policies
-- 004 creates are already recorded.

-- The chain key of a row: its tenant, or the all-zero uuid for rows with no tenant.
create or replace function steward.audit_chain_key(tenant uuid) returns uuid
language sql immutable as $$
  select coalesce(tenant, '00000000-0000-0000-0000-000000000000'::uuid)
$$;

-- One row per position in each chain; also the index the trigger reads the chain's end from.
create unique index audit_log_chain_uidx on public.audit_log (steward.audit_chain_key(tenant_id), chain_seq);

-- hash = sha256(prev_hash | canonical row). created_at enters as epoch microseconds, so
-- the text form is independent of the session's TimeZone and DateStyle; jsonb's text
-- form is canonical (sorted keys, normalised whitespace).
create or replace function steward.audit_row_hash(
  prev_hash text, id bigint, tenant_id uuid, chain_seq bigint, actor_type text,
  actor_id text, category text, payload jsonb, created_at timestamptz
) returns text
language sql immutable as $$
  select encode(sha256(convert_to(
    prev_hash || '|' || jsonb_build_array(
      id, tenant_id, chain_seq, actor_type, actor_id, category, payload,
      (extract(epoch from created_at) * 1000000)::bigint
    )::text, 'UTF8')), 'hex')
$$;

-- BEFORE INSERT: link the row to the end of its tenant's chain. The transaction-scoped
-- advisory lock serialises appends per chain until commit, so two writers can never
-- link to the same predecessor. Security definer: the chain must be read whole,
-- whatever the inserting role may see.
create or replace function steward.audit_log_link() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  last_seq bigint;
  last_hash text;
begin
  perform pg_advisory_xact_lock(hashtextextended('steward.audit_log:' || steward.audit_chain_key(new.tenant_id)::text, 0));
  select a.chain_seq, a.hash into last_seq, last_hash
    from public.audit_log a
   where steward.audit_chain_key(a.tenant_id) = steward.audit_chain_key(new.tenant_id)
   order by a.chain_seq desc
   limit 1;
  new.created_at := coalesce(new.created_at, now());
  new.payload := coalesce(new.payload, '{}'::jsonb);
  new.chain_seq := coalesce(last_seq, 0) + 1;
  new.prev_hash := coalesce(last_hash, repeat('0', 64));
  new.hash := steward.audit_row_hash(new.prev_hash, new.id, new.tenant_id, new.chain_seq,
    new.actor_type, new.actor_id, new.category, new.payload, new.created_at);
  return new;
end $$;

create trigger audit_log_link before insert on public.audit_log
  for each row execute function steward.audit_log_link();

create or replace function steward.audit_log_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = '42501', hint = 'Audit rows are never changed or removed.';
end $$;

create trigger audit_log_no_update_delete before update or delete on public.audit_log
  for each row execute function steward.audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function steward.audit_log_refuse_change();

-- The first broken link of each chain (or of one tenant's chain): a row whose content no
-- longer matches its hash, whose prev_hash is not its predecessor's hash, or whose
-- position skips (a row was removed before it). No rows = intact.
create or replace function steward.audit_verify(p_tenant uuid default null)
returns table (tenant_id uuid, id bigint, chain_seq bigint, reason text)
language sql stable as $$
  with chain as (
    select a.*,
           lag(a.hash) over w as expected_prev,
           row_number() over w as position
      from public.audit_log a
     where p_tenant is null or a.tenant_id = p_tenant
    window w as (partition by steward.audit_chain_key(a.tenant_id) order by a.chain_seq)
  ), broken as (
    select c.tenant_id, c.id, c.chain_seq,
           case
             when c.chain_seq <> c.position then 'sequence_gap'
             when c.prev_hash <> coalesce(c.expected_prev, repeat('0', 64)) then 'prev_hash_mismatch'
             when c.hash <> steward.audit_row_hash(c.prev_hash, c.id, c.tenant_id, c.chain_seq,
               c.actor_type, c.actor_id, c.category, c.payload, c.created_at) then 'hash_mismatch'
           end as reason
      from chain c
  )
  select distinct on (steward.audit_chain_key(b.tenant_id)) b.tenant_id, b.id, b.chain_seq, b.reason
    from broken b
   where b.reason is not null
   order by steward.audit_chain_key(b.tenant_id), b.chain_seq
$$;
revoke all on function steward.audit_verify(uuid) from public;
-- The service role (AuditLogger.verify, operators' checks) must be able to run it; it
-- reads with the caller's rights, and service_role bypasses RLS, so it sees every chain.
grant execute on function steward.audit_verify(uuid) to service_role;

-- Policy changes → audit_log (category auth_policy). DROP POLICY is not reported at
-- ddl_command_end, only to sql_drop triggers (verified on PGlite and PostgreSQL 15).
-- Also recorded: GRANT/REVOKE (the verb half of the access matrix; event triggers do not
-- expose their objects, so the statement's text is kept, truncated), ALTER TABLE that
-- leaves a public table without row level security, and any ALTER TABLE of audit_log
-- itself (e.g. DISABLE TRIGGER, the first step of tampering with it).
create or replace function steward.audit_policy_change() returns event_trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  r record;
  entry jsonb;
begin
  for r in select * from pg_event_trigger_ddl_commands() loop
    entry := case
      when r.command_tag in ('CREATE POLICY', 'ALTER POLICY') then
        jsonb_build_object('command', r.command_tag, 'policy', r.object_identity)
      when r.command_tag in ('GRANT', 'REVOKE') then
        jsonb_build_object('command', r.command_tag, 'object_type', lower(r.object_type),
                           'statement', left(current_query(), 500))
      when r.command_tag = 'ALTER TABLE' and r.object_identity = 'public.audit_log' then
        jsonb_build_object('command', 'ALTER TABLE', 'table', r.object_identity,
                           'statement', left(current_query(), 500))
      when r.command_tag = 'ALTER TABLE' and r.schema_name = 'public' and r.object_type = 'table'
        and exists (select from pg_class c where c.oid = r.objid and not c.relrowsecurity) then
        jsonb_build_object('command', 'ALTER TABLE', 'table', r.object_identity, 'row_level_security', false)
    end;
    if entry is not null then
      insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
      values (null, 'database', session_user, 'auth_policy', entry);
    end if;
  end loop;
end $$;

create or replace function steward.audit_policy_drop() returns event_trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  r record;
begin
  for r in select * from pg_event_trigger_dropped_objects() where object_type = 'policy' loop
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    values (null, 'database', session_user, 'auth_policy', jsonb_build_object(
      'command', 'DROP POLICY', 'policy', r.object_identity));
  end loop;
end $$;

-- Event triggers need a superuser (on Supabase, supautils lets `postgres` create them).
-- Where that is refused, migrate anyway but leave a visible record of the gap.
do $do$
begin
  create event trigger steward_audit_policy_change on ddl_command_end
    when tag in ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE', 'GRANT', 'REVOKE')
    execute function steward.audit_policy_change();
  create event trigger steward_audit_policy_drop on sql_drop
    when tag in ('DROP POLICY')
    execute function steward.audit_policy_drop();
exception when insufficient_privilege then
  raise warning 'policy changes are not audited: creating event triggers was refused (%)', sqlerrm;
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (null, 'database', session_user, 'auth_policy', jsonb_build_object(
    'event', 'policy_audit_unavailable', 'reason', sqlerrm));
end
$do$;
