-- 002_auth: Supabase's auth surface, created only where absent, plus Steward's tenancy
-- helpers. On hosted Supabase the roles and auth.* functions already exist and are left
-- untouched; on plain PostgreSQL and PGlite this creates them with Supabase's semantics
-- (reference/supabase-protocols.md §5).

-- Roles. Cluster-wide on PostgreSQL, so several databases may race to create them
-- (parallel test databases): a lost race is not an error.
do $do$
declare
  r record;
begin
  for r in select * from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls')) as t(name, options)
  loop
    if not exists (select from pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
  -- `set local role` needs membership unless the migrating role is a superuser
  -- (Supabase's `postgres` is not, and is already a member there).
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant anon, authenticated, service_role to %I', current_user);
  end if;
end
$do$;

create schema if not exists auth;

-- auth.jwt(), auth.uid(), auth.role(): Supabase's definitions, only where absent.
do $do$
begin
  if not exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'auth' and p.proname = 'jwt') then
    create function auth.jwt() returns jsonb language sql stable as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;
  end if;
  if not exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'auth' and p.proname = 'uid') then
    create function auth.uid() returns uuid language sql stable as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $fn$;
  end if;
  if not exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                 where n.nspname = 'auth' and p.proname = 'role') then
    create function auth.role() returns text language sql stable as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $fn$;
  end if;
end
$do$;

-- The tenant of the current request: the `tenant_id` claim. Missing, empty or not a
-- uuid → NULL, so the caller sees no tenant rows (the original raised on a bad uuid).
create or replace function public.current_tenant_id_uuid() returns uuid
language sql stable as $$
  select case
    when c ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then c::uuid
  end
  from (select auth.jwt() ->> 'tenant_id' as c) as claim
$$;

-- The original's alias, kept for compatibility.
create or replace function public.current_tenant_id() returns uuid
language sql stable as $$ select public.current_tenant_id_uuid() $$;

-- The scopes a token carries: a `scopes` array claim, or an OAuth-style space-separated
-- `scope` string. Trimmed and lower-cased, as the original's scope checks did.
create or replace function public.jwt_scopes() returns text[]
language sql stable as $$
  select coalesce(
    case jsonb_typeof(auth.jwt() -> 'scopes') when 'array' then
      array(select lower(btrim(s)) from jsonb_array_elements_text(auth.jwt() -> 'scopes') as s)
    end,
    case jsonb_typeof(auth.jwt() -> 'scope') when 'string' then
      array(select lower(s) from regexp_split_to_table(btrim(auth.jwt() ->> 'scope'), '\s+') as s
            where s <> '')
    end,
    '{}'::text[])
$$;

-- True when the token carries every scope in `required` (compared trimmed, lower-case).
create or replace function public.jwt_has_scopes(required text[]) returns boolean
language sql stable as $$
  select array(select lower(btrim(r)) from unnest(required) as r) <@ public.jwt_scopes()
$$;

-- Schema access. Tables get their grants in 004_rls; `steward` stays internal.
grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
-- On Supabase `auth` belongs to supabase_auth_admin and already grants this; there the
-- migrating role may not grant on it, which is no reason to fail.
do $do$
begin
  grant usage on schema auth to anon, authenticated, service_role;
exception when insufficient_privilege then
  null;
end
$do$;
revoke all on schema steward from public;
grant usage on schema steward to service_role;
