-- 008_composio_accounts: the connected-account lifecycle (docs/implementation/composio-tooling.md,
-- "Connected-account lifecycle"). A link and every status change is one function call
-- that writes the row and its audit_log row (category `connected_account`) in the same
-- transaction, so no status can change unaudited through Steward's code.
--
-- Public RPCs, security definer, as the approvals of 005: a tenant's token may drive its
-- own accounts (the future REST surface; Steward's services with tenant access) and the
-- service role any account (the worker, the CLI). The checks are explicit: another
-- tenant's account is "not found", exactly as RLS would hide it. A tenant could already
-- insert and update these columns directly (004_rls grants), so the functions add the
-- audit row, not a privilege.

-- One Steward row per Composio account within a tenant: the executor and the guardrail
-- context look accounts up by (tenant_id, metadata.composio_id), and a second row with
-- the same id would make that lookup ambiguous.
create unique index connected_accounts_tenant_composio_uidx
  on public.connected_accounts (tenant_id, (metadata ->> 'composio_id'))
  where metadata ? 'composio_id';

-- Who is calling, from the request's claims: the service role (its actor named by the
-- caller) or a tenant token (the actor is the token's subject; a tenant cannot name one).
create or replace function steward.account_actor(p_actor_type text, p_actor_id text)
returns table (is_service boolean, tenant uuid, actor_type text, actor_id text)
language plpgsql stable set search_path = pg_catalog, public as $$
declare
  claims jsonb := coalesce(auth.jwt(), '{}'::jsonb);
begin
  if claims ->> 'role' = 'service_role' then
    return query select true, null::uuid, coalesce(p_actor_type, 'service'), coalesce(p_actor_id, 'service_role');
    return;
  end if;
  if claims ->> 'role' is distinct from 'authenticated' or public.current_tenant_id_uuid() is null then
    raise exception 'connected accounts need a tenant token or the service role' using errcode = '42501';
  end if;
  return query select false, public.current_tenant_id_uuid(), 'user'::text, coalesce(claims ->> 'sub', 'authenticated');
end $$;

-- A link was initiated at Composio: the account's row, `pending`, with its Composio id
-- in metadata.composio_id. Audited as transition `link`.
create or replace function public.link_connected_account(
  p_tenant uuid, p_provider text, p_composio_id text, p_scopes text[] default '{}',
  p_metadata jsonb default '{}', p_actor_type text default null, p_actor_id text default null)
returns public.connected_accounts
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
  who record;
  account public.connected_accounts;
begin
  select * into who from steward.account_actor(p_actor_type, p_actor_id);
  if not who.is_service and p_tenant is distinct from who.tenant then
    raise exception 'tenant % not found', p_tenant using errcode = 'P0002';
  end if;
  if p_composio_id is null or btrim(p_composio_id) = '' then
    raise exception 'composio_id: must be a non-empty Composio connected account id' using errcode = '22023';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'metadata: must be a JSON object' using errcode = '22023';
  end if;

  insert into public.connected_accounts (tenant_id, provider, status, scopes, metadata)
  values (p_tenant, p_provider, 'pending', coalesce(p_scopes, '{}'),
          coalesce(p_metadata, '{}') || jsonb_build_object('composio_id', p_composio_id))
  returning * into account;

  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (account.tenant_id, who.actor_type, who.actor_id, 'connected_account', jsonb_strip_nulls(jsonb_build_object(
    'account_id', account.id, 'composio_id', p_composio_id, 'provider', account.provider,
    'transition', 'link', 'from', null, 'to', account.status,
    'auth_config_id', account.metadata ->> 'auth_config_id')));
  return account;
end $$;

-- Sets an account's status. A change writes one audit row (category `connected_account`:
-- account, Composio id, transition, from, to, reason, and the caller's details, which
-- cannot override those keys); no change writes nothing, so polling is free of noise.
-- Becoming active stamps linked_at. Returns the row and the status it had prior.
create or replace function public.set_connected_account_status(
  p_account uuid, p_status text, p_transition text, p_reason text default null,
  p_details jsonb default '{}', p_actor_type text default null, p_actor_id text default null)
returns table (id uuid, tenant_id uuid, provider text, status text, scopes text[], linked_at timestamptz,
               metadata jsonb, created_at timestamptz, updated_at timestamptz, previous_status text)
language plpgsql security definer set search_path = pg_catalog, public as $$
#variable_conflict use_column
declare
  who record;
  prior public.connected_accounts;
  changed public.connected_accounts;
begin
  select * into who from steward.account_actor(p_actor_type, p_actor_id);
  if p_transition is null or btrim(p_transition) = '' then
    raise exception 'transition: must name what changed the status' using errcode = '22023';
  end if;
  if p_details is not null and jsonb_typeof(p_details) <> 'object' then
    raise exception 'details: must be a JSON object' using errcode = '22023';
  end if;
  select * into prior from public.connected_accounts a
   where a.id = p_account and (who.is_service or a.tenant_id = who.tenant)
   for update;
  if not found then
    raise exception 'connected account % not found', p_account using errcode = 'P0002';
  end if;

  if prior.status = p_status then
    return query select prior.id, prior.tenant_id, prior.provider, prior.status, prior.scopes, prior.linked_at,
                        prior.metadata, prior.created_at, prior.updated_at, prior.status;
    return;
  end if;

  -- The status CHECK of 001_init refuses an unknown status (23514 → invalid_input).
  update public.connected_accounts a
     set status = p_status,
         linked_at = case when p_status = 'active' then now() else a.linked_at end
   where a.id = p_account
  returning * into changed;

  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (changed.tenant_id, who.actor_type, who.actor_id, 'connected_account',
          coalesce(p_details, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object(
            'account_id', changed.id, 'composio_id', changed.metadata ->> 'composio_id', 'provider', changed.provider,
            'transition', p_transition, 'from', prior.status, 'to', changed.status, 'reason', left(p_reason, 2000))));
  return query select changed.id, changed.tenant_id, changed.provider, changed.status, changed.scopes, changed.linked_at,
                      changed.metadata, changed.created_at, changed.updated_at, prior.status;
end $$;

revoke all on function steward.account_actor(text, text) from public;
grant execute on function steward.account_actor(text, text) to service_role;
revoke all on function public.link_connected_account(uuid, text, text, text[], jsonb, text, text),
  public.set_connected_account_status(uuid, text, text, text, jsonb, text, text) from public, anon;
grant execute on function public.link_connected_account(uuid, text, text, text[], jsonb, text, text),
  public.set_connected_account_status(uuid, text, text, text, jsonb, text, text) to authenticated, service_role;
