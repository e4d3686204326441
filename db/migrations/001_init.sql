-- 001_init: the seed's tables (docs/data-and-roadmap "Target Supabase Schema") plus
-- catalog_audit, with the seed's names, columns, foreign keys and indexes.
--
-- Runs unchanged on PostgreSQL 15+ (with pgvector), on hosted Supabase and on PGlite.
-- Additions beyond the seed are marked "added:" with the reason. Differences from the
-- original Python system (reference/original-system.md) are marked "differs:".

-- differs: no pgcrypto. gen_random_uuid() and sha256() are core since PostgreSQL 13/11,
-- and PGlite would need pgcrypto loaded as a separate module.
-- pgvector goes into schema `extensions`, as on Supabase. Where it is already installed
-- elsewhere (older Supabase projects have it in `public`) this is a no-op, so the type
-- and operator classes are named unqualified below: migrations and every Steward
-- transaction run with search_path `public, extensions`, which finds them either way.
create schema if not exists extensions;
create extension if not exists vector with schema extensions;

-- Internal schema: migration bookkeeping, worker functions, audit internals.
-- Not exposed over REST; anon/authenticated get no usage on it (002_auth).
create schema if not exists steward;

create or replace function steward.set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;

-- {"start": h, "end": h} with whole hours 0-23 and start <> end (an empty or full-day
-- window is a configuration error, not "no quiet hours": use null for that). CASE, not AND: AND does not promise
-- evaluation order, and the cast must never see a non-number.
create or replace function steward.is_quiet_hours(q jsonb) returns boolean
language sql immutable as $$
  select case
    when jsonb_typeof(q) <> 'object'
      or jsonb_typeof(q -> 'start') is distinct from 'number'
      or jsonb_typeof(q -> 'end') is distinct from 'number' then false
    else (q ->> 'start')::numeric in (0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23)
     and (q ->> 'end')::numeric in (0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23)
     and (q ->> 'start')::numeric <> (q ->> 'end')::numeric
  end
$$;

-- ---------------------------------------------------------------------------
-- tenants
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  plan text not null default 'free',
  -- added: quiet hours are evaluated in the tenant's own time zone (the original was
  -- UTC-only). IANA name; validated at the service boundary.
  timezone text not null default 'UTC',
  -- added: per-tenant serialization. The worker never runs more of a tenant's envelopes
  -- at once than this (the seed's "tenant-level locks"); 1 = strictly one at a time.
  concurrency_limit integer not null default 1 check (concurrency_limit between 1 and 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tenants_plan_idx on public.tenants (plan);

-- ---------------------------------------------------------------------------
-- objectives
create table public.objectives (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null check (length(btrim(title)) between 1 and 500),
  metric text not null check (length(btrim(metric)) between 1 and 200),
  target text check (length(target) <= 500),
  horizon text check (length(horizon) <= 200),
  summary text check (length(summary) <= 10000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index objectives_tenant_metric_idx on public.objectives (tenant_id, metric);

-- ---------------------------------------------------------------------------
-- guardrails: one row per tenant
create table public.guardrails (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- {"start": 22, "end": 6}: whole hours, window [start, end), wraps midnight when
  -- start > end. added: the shape is checked here, so a bad window never reaches the
  -- worker (the original silently allowed invalid config).
  quiet_hours jsonb check (quiet_hours is null or steward.is_quiet_hours(quiet_hours)),
  -- added: a threshold outside [0, 1] is an error in the original's checks; enforce it.
  trust_threshold numeric check (trust_threshold between 0 and 1),
  -- {"allowed": ["GMAIL", "SLACK"]}: toolkits/scopes this tenant enables.
  scopes jsonb not null default '{}' check (jsonb_typeof(scopes) = 'object' and octet_length(scopes::text) <= 65536),
  require_evidence boolean not null default true,
  -- added: JWT scopes a tenant token must carry to insert evidence rows itself
  -- (the seed's "require scope = 'finance:write' before allowing inserts into
  -- evidence_embeddings"). Empty = tenants cannot insert evidence; only the service role.
  evidence_insert_scopes text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index guardrails_tenant_uidx on public.guardrails (tenant_id);

-- ---------------------------------------------------------------------------
-- connected_accounts
create table public.connected_accounts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  provider text not null,
  -- added: the enumeration is checked. Composio's states, lower-cased, with its
  -- INITIALIZING/INITIATED folded into `pending` (the original's default).
  status text not null default 'pending'
    check (status in ('pending', 'active', 'failed', 'expired', 'inactive', 'revoked')),
  scopes text[] not null default '{}',
  linked_at timestamptz,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 65536),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index connected_accounts_tenant_provider_idx on public.connected_accounts (tenant_id, provider);

-- ---------------------------------------------------------------------------
-- tool_catalog
create table public.tool_catalog (
  id bigserial primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  display_name text,
  description text,
  version text not null default 'latest',
  -- added: risk tiers are an enumeration (retry policy and approvals key on them).
  risk text check (risk in ('low', 'medium', 'high')),
  schema jsonb not null default '{}' check (jsonb_typeof(schema) = 'object' and octet_length(schema::text) <= 262144),
  required_scopes text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index tool_catalog_tenant_slug_version_idx
  on public.tool_catalog (tenant_id, tool_slug, version);

-- ---------------------------------------------------------------------------
-- outbox: action envelopes
create table public.outbox (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  -- added: size caps on client-supplied JSON (256 KiB), so the REST surface cannot
  -- store unbounded documents; the services reject larger input first, naming the field.
  arguments jsonb not null check (jsonb_typeof(arguments) = 'object' and octet_length(arguments::text) <= 262144),
  connected_account_id text,            -- a Composio id, not a foreign key (as the original)
  risk text not null default 'medium' check (risk in ('low', 'medium', 'high')),
  -- differs: never null (generated once, stored) and unique per tenant rather than
  -- globally: the idempotency key of enqueue and of the provider call.
  external_id text not null default gen_random_uuid()::text,
  trust_context jsonb not null default '{}' check (jsonb_typeof(trust_context) = 'object' and octet_length(trust_context::text) <= 65536),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 65536),
  -- DESIGN.md §5. A dead-lettered envelope leaves this table for outbox_dlq.
  status text not null default 'pending'
    check (status in ('pending', 'in_progress', 'awaiting_approval', 'success', 'conflict', 'rejected')),
  attempts integer not null default 0 check (attempts >= 0),
  -- differs: not null. "Due" is then one range condition (next_run_at <= now()) that
  -- the claim index below serves; the original's null meant "now".
  next_run_at timestamptz not null default now(),
  last_error text,
  -- added: lease of the worker running the envelope. An in_progress row whose lease
  -- expired belongs to a dead worker and is claimable again.
  locked_by text,
  locked_until timestamptz,
  -- added: the provider's result, in its own field (the original merged it into metadata).
  result jsonb,
  -- added: an approval returns the envelope to pending marked approved, so the trust
  -- check is not asked again.
  approved_at timestamptz,
  approved_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((status = 'in_progress') = (locked_by is not null and locked_until is not null))
);
create index outbox_tenant_status_idx on public.outbox (tenant_id, status);
create unique index outbox_external_id_uidx on public.outbox (tenant_id, external_id);
-- added: the claim index. Only due pending rows are ever scanned by the worker, and
-- the partial index stays as small as the backlog.
create index outbox_claim_idx on public.outbox (next_run_at, created_at) where status = 'pending';
-- added: lease recovery scans only running rows.
create index outbox_lease_idx on public.outbox (locked_until) where status = 'in_progress';

-- ---------------------------------------------------------------------------
-- outbox_dlq: dead-lettered envelopes (same id as in outbox)
create table public.outbox_dlq (
  id uuid primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  arguments jsonb not null,
  connected_account_id text,
  risk text not null default 'medium' check (risk in ('low', 'medium', 'high')),
  external_id text not null,
  trust_context jsonb not null default '{}',
  metadata jsonb not null default '{}',
  status text not null default 'dlq' check (status = 'dlq'),
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  result jsonb,
  created_at timestamptz not null default now(),
  moved_at timestamptz not null default now()
);
create index outbox_dlq_tenant_idx on public.outbox_dlq (tenant_id, moved_at desc);
-- added: an external_id stays unique per tenant across outbox and DLQ together
-- (enqueue checks both), so requeueing a DLQ row can never collide.
create unique index outbox_dlq_external_id_uidx on public.outbox_dlq (tenant_id, external_id);

-- ---------------------------------------------------------------------------
-- audit_log: append-only and hash-chained (see 004_audit)
create table public.audit_log (
  id bigint generated always as identity primary key,
  -- differs: no cascade. History outlives nothing: a tenant with audit rows cannot be
  -- deleted (the original's cascade let a tenant delete erase its audit trail).
  tenant_id uuid references public.tenants (id) on delete restrict,
  actor_type text,
  actor_id text,
  category text not null check (length(category) between 1 and 64),
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  -- added: tamper evidence. chain_seq numbers a tenant's rows 1, 2, 3…; hash covers
  -- the row and prev_hash (the previous row's hash), set by trigger in 004_audit.
  chain_seq bigint not null,
  prev_hash text not null,
  hash text not null
);
create index audit_log_tenant_created_idx on public.audit_log (tenant_id, created_at desc);
create index audit_log_category_idx on public.audit_log (tenant_id, category, created_at desc);

-- ---------------------------------------------------------------------------
-- evidence_embeddings
create table public.evidence_embeddings (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  source_type text not null check (source_type in ('tool_output', 'proposal', 'audit', 'note', 'document')),
  -- differs: text, not the seed's uuid. Sources include audit rows (bigint ids) as well
  -- as envelopes (uuids); text holds both.
  source_id text,
  content text not null,
  -- Nullable: rows are embedded asynchronously, after they are written.
  embedding vector(384),
  -- added: which model produced the vector. Search compares rows of one model only.
  embedding_model text,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  -- added: keyword half of hybrid search.
  content_tsv tsvector generated always as (to_tsvector('english', content)) stored,
  created_at timestamptz not null default now(),
  check ((embedding is null) = (embedding_model is null))
);
create index evidence_embeddings_tenant_idx on public.evidence_embeddings (tenant_id);
create index evidence_embeddings_embedding_idx
  on public.evidence_embeddings using hnsw (embedding vector_ip_ops);
create index evidence_embeddings_tsv_idx on public.evidence_embeddings using gin (content_tsv);
create index evidence_embeddings_source_idx on public.evidence_embeddings (tenant_id, source_type, source_id);

-- ---------------------------------------------------------------------------
-- catalog_audit: drift snapshots of a tenant's tool catalog
create table public.catalog_audit (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  change text not null check (change in ('added', 'removed', 'changed')),
  from_version text,
  to_version text,
  breaking boolean not null default false,
  -- structured diff of the tool's JSON schema (new required field, removed field, type change)
  diff jsonb not null default '{}',
  detected_at timestamptz not null default now()
);
create index catalog_audit_tenant_detected_idx on public.catalog_audit (tenant_id, detected_at desc);

-- ---------------------------------------------------------------------------
create trigger tenants_set_updated_at before update on public.tenants
  for each row execute function steward.set_updated_at();
create trigger objectives_set_updated_at before update on public.objectives
  for each row execute function steward.set_updated_at();
create trigger guardrails_set_updated_at before update on public.guardrails
  for each row execute function steward.set_updated_at();
create trigger connected_accounts_set_updated_at before update on public.connected_accounts
  for each row execute function steward.set_updated_at();
create trigger tool_catalog_set_updated_at before update on public.tool_catalog
  for each row execute function steward.set_updated_at();
create trigger outbox_set_updated_at before update on public.outbox
  for each row execute function steward.set_updated_at();
