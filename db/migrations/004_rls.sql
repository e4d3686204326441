-- 004_rls: row level security on every table, and the grants that say which verbs each
-- role has. docs/governance/security-and-guardrails.md has the resulting matrix.
--
-- The scheme, per table:
--   * grants decide the verbs: anon has none; authenticated (a tenant's token) may read
--     every table and write only where the seed allows; service_role has the DML verbs
--     (select, insert, update, delete, truncate; never trigger/references);
--   * `tenant_isolation` (permissive, all verbs, authenticated) decides the rows: the
--     row's tenant must be the token's `tenant_id` claim, for reads and for writes;
--   * `service_role_full_access` (permissive, all verbs, service_role) lets server-side
--     jobs through where BYPASSRLS is not in effect (the role has it here; kept so the
--     policy set is explicit and the same as on Supabase);
--   * restrictive policies add conditions: guardrail changes need the
--     `guardrails:write` scope, evidence inserts need the tenant's configured scopes.
-- Hosted Supabase grants all verbs on new public tables to anon and authenticated by
-- default; every table here revokes those first, so the grants below are the whole story.

-- rls_protect(table, tenant column): enable RLS, reset grants, add the two base policies.
create or replace function steward.rls_protect(tbl regclass, tenant_column text) returns void
language plpgsql as $$
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('revoke all on table %s from public, anon, authenticated, service_role', tbl);
  execute format('grant select on table %s to authenticated', tbl);
  -- The verbs, not `all`: `all` includes TRIGGER, and a trigger runs its function with
  -- the rights of whoever writes the table next (the owner, a migration, a tenant), so
  -- the service role could install code that runs as them (a function of its own in
  -- pg_temp suffices). REFERENCES and (PostgreSQL 17+) MAINTAIN are not needed either.
  execute format('grant select, insert, update, delete, truncate on table %s to service_role', tbl);
  execute format(
    'create policy tenant_isolation on %s as permissive for all to authenticated
       using (%I = (select public.current_tenant_id_uuid()))
       with check (%I = (select public.current_tenant_id_uuid()))', tbl, tenant_column, tenant_column);
  execute format(
    'create policy service_role_full_access on %s as permissive for all to service_role
       using (true) with check (true)', tbl);
end $$;

select steward.rls_protect('public.tenants', 'id');
select steward.rls_protect('public.objectives', 'tenant_id');
select steward.rls_protect('public.guardrails', 'tenant_id');
select steward.rls_protect('public.connected_accounts', 'tenant_id');
select steward.rls_protect('public.tool_catalog', 'tenant_id');
select steward.rls_protect('public.outbox', 'tenant_id');
select steward.rls_protect('public.outbox_dlq', 'tenant_id');
select steward.rls_protect('public.audit_log', 'tenant_id');
select steward.rls_protect('public.evidence_embeddings', 'tenant_id');
select steward.rls_protect('public.catalog_audit', 'tenant_id');
drop function steward.rls_protect(regclass, text);

-- Sequences behind bigserial/identity columns: only the service role inserts there.
-- (Supabase's default privileges also grant new sequences to anon and authenticated.)
revoke all on all sequences in schema public from public, anon, authenticated;
grant usage, select on all sequences in schema public to service_role;

-- audit_log: append-only for the service role too (the trigger in 003 refuses UPDATE,
-- DELETE and TRUNCATE for every role; the grants say the same).
revoke update, delete, truncate on table public.audit_log from service_role;

-- Tenant writes. Columns are listed so a tenant can never move a row to another
-- tenant or rewrite its identity or timestamps.
grant insert (tenant_id, title, metric, target, horizon, summary),
      update (title, metric, target, horizon, summary)
  on table public.objectives to authenticated;

grant insert (tenant_id, provider, status, scopes, linked_at, metadata),
      update (provider, status, scopes, linked_at, metadata)
  on table public.connected_accounts to authenticated;

-- Guardrails: a tenant updates its own row (the seed's "tenant owners can select/update
-- their record"), but only with a token that carries `guardrails:write`, so an ordinary
-- tenant token cannot loosen the rules that gate it. Inserts stay with the service role.
grant update (quiet_hours, trust_threshold, scopes, require_evidence, evidence_insert_scopes)
  on table public.guardrails to authenticated;
create policy guardrails_update_requires_scope on public.guardrails
  as restrictive for update to authenticated
  using (public.jwt_has_scopes(array['guardrails:write']))
  with check (public.jwt_has_scopes(array['guardrails:write']));

-- Evidence: read-only for tenants unless their guardrails name the scopes a token must
-- carry to insert (the seed's `finance:write` example); then a token with all of them
-- may insert rows for its own tenant, and one without is refused by this policy.
create or replace function public.evidence_insert_allowed(tenant uuid) returns boolean
language sql stable as $$
  select exists (
    select from public.guardrails g
     where g.tenant_id = tenant
       and cardinality(g.evidence_insert_scopes) > 0
       and public.jwt_has_scopes(g.evidence_insert_scopes))
$$;
grant insert (tenant_id, source_type, source_id, content, embedding, embedding_model, metadata)
  on table public.evidence_embeddings to authenticated;
create policy evidence_insert_requires_scopes on public.evidence_embeddings
  as restrictive for insert to authenticated
  with check (public.evidence_insert_allowed(tenant_id));
