-- 010_evidence_search: evidence memory. Sources become evidence rows (collect), rows are
-- searched semantically, by keyword or both (RPC functions, security invoker so RLS
-- decides what a caller sees), and guardrail learning records its suggestions for review.
-- docs/implementation/evidence-and-search.md explains the design.
--
-- Embeddings are written by Steward's re-indexer (src/evidence/reindex.ts), never here:
-- the database renders and chunks text, TypeScript embeds it.

-- ---------------------------------------------------------------------------
-- evidence_embeddings, completed

-- A source longer than one chunk becomes several rows; chunk_index numbers them, and a
-- source's chunks are unique, so collecting twice (or concurrently) writes each once.
alter table public.evidence_embeddings add column chunk_index integer not null default 0 check (chunk_index >= 0);
create unique index evidence_embeddings_source_chunk_uidx
  on public.evidence_embeddings (tenant_id, source_type, source_id, chunk_index) where source_id is not null;

-- Unit vectors only. Then inner product, cosine and L2 order rows identically, so the one
-- HNSW index (vector_ip_ops, 001) serves all three metrics. NOT VALID: enforced for every
-- new or changed row without failing on rows a deployment wrote before this migration.
alter table public.evidence_embeddings add constraint evidence_embeddings_unit_norm
  check (embedding is null or abs(vector_norm(embedding) - 1) < 0.001) not valid;

-- Rows still to embed for a model: the re-indexer's scan (embedding_model is distinct
-- from the active one). Small: finished rows are few per model.
create index evidence_embeddings_model_idx on public.evidence_embeddings (embedding_model, id);

-- ---------------------------------------------------------------------------
-- Rendering: sources → text. Immutable helpers, public so that RPC callers (and RLS'd
-- tenants) build the same query text Steward does.

-- JSON as "path: value" lines in document order (message.subject: Renewal), which embeds
-- and matches keywords better than JSON syntax. Nulls and empty containers are dropped.
create or replace function public.evidence_json_text(p_value jsonb) returns text
language sql immutable set search_path = pg_catalog as $$
  with recursive walk(path, ord, value) as (
    select ''::text, array[]::int[], p_value
    union all
    select c.path, w.ord || c.i, c.value
      from walk w
      cross join lateral (
        select case when w.path = '' then e.key else w.path || '.' || e.key end, e.i::int, e.value
          from jsonb_each(case when jsonb_typeof(w.value) = 'object' then w.value else '{}'::jsonb end)
               with ordinality as e(key, value, i)
        union all
        select w.path || '[' || (a.i - 1) || ']', a.i::int, a.value
          from jsonb_array_elements(case when jsonb_typeof(w.value) = 'array' then w.value else '[]'::jsonb end)
               with ordinality as a(value, i)
      ) as c(path, i, value)
  )
  select string_agg(case when path = '' then value #>> '{}' else path || ': ' || (value #>> '{}') end, E'\n' order by ord)
    from walk
   where jsonb_typeof(value) not in ('object', 'array', 'null')
$$;

-- A proposal as the text it is searched by: what the agent asked for. The same text is
-- the query when looking for evidence about a new envelope (evidence_query_for_envelope).
create or replace function public.evidence_proposal_text(p_tool_slug text, p_risk text, p_arguments jsonb, p_trust_context jsonb)
returns text
language sql immutable set search_path = pg_catalog, public as $$
  select concat_ws(E'\n',
    'Proposal ' || p_tool_slug || coalesce(' (risk ' || p_risk || ')', ''),
    nullif(public.evidence_json_text(p_arguments), ''),
    'trust ' || nullif(replace(public.evidence_json_text(p_trust_context), E'\n', '; '), ''))
$$;

-- What became of a proposal, as guardrail learning classifies it:
--   decision: approved (a person approved it), rejected (a person rejected it), blocked
--             (the guardrails rejected it), auto (it ran without anyone being asked);
--   outcome:  succeeded, conflict, rejected, failed (dead-lettered).
-- A person's rejection is recognised by the last_error that decide_approval (005) writes.
create or replace function public.evidence_proposal_outcome(p_status text, p_approved_by text, p_last_error text)
returns jsonb
language sql immutable set search_path = pg_catalog as $$
  select jsonb_build_object(
    'decision', case
      when p_approved_by is not null then 'approved'
      when p_status = 'rejected' and p_last_error like 'rejected%' then 'rejected'
      when p_status = 'rejected' then 'blocked'
      else 'auto' end,
    'outcome', case p_status
      when 'success' then 'succeeded' when 'conflict' then 'conflict'
      when 'rejected' then 'rejected' when 'dlq' then 'failed' else p_status end)
$$;

create or replace function public.evidence_outcome_text(p_outcome jsonb, p_approved_by text, p_last_error text)
returns text
language sql immutable set search_path = pg_catalog as $$
  select 'Outcome: ' || case p_outcome ->> 'decision'
      when 'approved' then 'approved by ' || p_approved_by || ', then '
      when 'rejected' then 'rejected by a person'
      when 'blocked' then 'blocked by the guardrails'
      else '' end
    || case when p_outcome ->> 'decision' in ('rejected', 'blocked') then '' else p_outcome ->> 'outcome' end
    || coalesce(': ' || nullif(p_last_error, ''), '')
$$;

-- Splits long text into chunks of at most p_max_chars (≥ 200). The first line is a
-- header naming the source ("Tool output of X"): every chunk repeats it, so each one
-- says what it is part of. Lines are packed whole; a longer line is cut at a sentence
-- end or a space near the limit.
create or replace function public.evidence_chunks(p_content text, p_max_chars integer default 1200)
returns table (chunk_index integer, chunk text)
language plpgsql immutable strict set search_path = pg_catalog as $$
declare
  header text := split_part(p_content, E'\n', 1);
  body text;
  room integer;
  line text;
  piece text;
  cut integer;
  pending text := '';
  n integer := 0;
begin
  if p_max_chars < 200 then
    raise exception 'evidence_chunks: p_max_chars must be at least 200' using errcode = '22023';
  end if;
  if length(p_content) <= p_max_chars then
    chunk_index := 0; chunk := p_content; return next;
    return;
  end if;
  body := substr(p_content, length(header) + 2);
  header := left(header, p_max_chars / 4);
  room := p_max_chars - length(header) - 1;
  foreach line in array string_to_array(body, E'\n') loop
    while length(line) > room loop
      piece := left(line, room);
      cut := position(' .' in reverse(piece));           -- the last ". " in the piece
      if cut = 0 or cut > room / 2 then cut := position(' ' in reverse(piece)); end if;
      if cut > 0 and cut <= room / 2 then piece := left(piece, room - cut + 1); end if;
      if pending <> '' then
        chunk_index := n; chunk := header || E'\n' || pending; return next;
        n := n + 1; pending := '';
      end if;
      chunk_index := n; chunk := header || E'\n' || rtrim(piece); return next;
      n := n + 1;
      line := ltrim(substr(line, length(piece) + 1));
    end loop;
    if pending <> '' and length(pending) + 1 + length(line) > room then
      chunk_index := n; chunk := header || E'\n' || pending; return next;
      n := n + 1; pending := '';
    end if;
    pending := case when pending = '' then rtrim(line) else pending || E'\n' || rtrim(line) end;
  end loop;
  if btrim(pending, E' \n') <> '' then
    chunk_index := n; chunk := header || E'\n' || pending; return next;
  end if;
end $$;

-- ---------------------------------------------------------------------------
-- Collection: sources → evidence rows (no embedding yet; the re-indexer adds it).
--   proposal     an envelope with a final outcome (outbox success/conflict/rejected, DLQ);
--   tool_output  an envelope's result;
--   audit        a tenant's audit entry, except the worker's claim/release mechanics.
-- Each row records `source_version` (the envelope's updated_at or moved_at; the audit id):
-- a source is collected when it has no evidence yet or has changed since. A changed
-- chunk loses its embedding (to be embedded again); chunks beyond the new count go.
-- Processes at most p_limit sources of each type, oldest first; call again until it
-- reports 0 (src/evidence/ingest.ts does). Service role only.
-- Envelopes wherever they are (outbox, DLQ), as collection reads them. version: when the
-- envelope last changed, in microseconds since the epoch (text, whatever the TimeZone).
create view steward.evidence_envelopes with (security_invoker = true) as
select o.tenant_id, o.id, o.tool_slug, o.risk, o.arguments, o.trust_context, o.status, o.approved_by,
       o.last_error, o.result, o.created_at, (extract(epoch from o.updated_at) * 1000000)::bigint::text as version
  from public.outbox o
union all
select d.tenant_id, d.id, d.tool_slug, d.risk, d.arguments, d.trust_context, 'dlq', null, d.last_error,
       d.result, d.created_at, (extract(epoch from d.moved_at) * 1000000)::bigint::text
  from public.outbox_dlq d;
revoke all on steward.evidence_envelopes from public, anon, authenticated;
grant select on steward.evidence_envelopes to service_role;

create or replace function steward.collect_evidence(p_limit integer default 500)
returns table (source_type text, sources integer, chunks integer)
language plpgsql set search_path = pg_catalog, public as $$
#variable_conflict use_column
declare
  n_sources integer;
  n_chunks integer;
begin
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception 'collect_evidence: p_limit must be 1 to 100000' using errcode = '22023';
  end if;

  -- proposals
  with src as (
    select v.*, public.evidence_proposal_outcome(v.status, v.approved_by, v.last_error) as outcome
      from steward.evidence_envelopes v
     where v.status in ('success', 'conflict', 'rejected', 'dlq')
       and not exists (select from public.evidence_embeddings e
                        where e.tenant_id = v.tenant_id and e.source_type = 'proposal' and e.source_id = v.id::text
                          and e.chunk_index = 0 and e.metadata ->> 'source_version' = v.version)
     order by v.version, v.id
     limit p_limit
  ), rows as (
    select s.tenant_id, s.id::text as source_id, s.created_at, c.chunk_index, c.chunk,
           jsonb_strip_nulls(jsonb_build_object(
             'tool_slug', s.tool_slug, 'risk', s.risk, 'status', s.status,
             'trust_score', case when jsonb_typeof(s.trust_context -> 'score') = 'number' then s.trust_context -> 'score' end,
             'source_version', s.version)) || s.outcome as metadata
      from src s
      cross join lateral public.evidence_chunks(concat_ws(E'\n',
        public.evidence_proposal_text(s.tool_slug, s.risk, s.arguments, s.trust_context),
        public.evidence_outcome_text(s.outcome, s.approved_by, s.last_error))) c
  ), written as (
    insert into public.evidence_embeddings as e (tenant_id, source_type, source_id, chunk_index, content, metadata, created_at)
    select r.tenant_id, 'proposal', r.source_id, r.chunk_index, r.chunk, r.metadata, r.created_at from rows r
    order by r.tenant_id, r.source_id, r.chunk_index
    on conflict (tenant_id, source_type, source_id, chunk_index) where source_id is not null do update
      set content = excluded.content, metadata = excluded.metadata,
          embedding = case when e.content = excluded.content then e.embedding end,
          embedding_model = case when e.content = excluded.content then e.embedding_model end
    returning 1
  ), pruned as (
    delete from public.evidence_embeddings e
     using (select r.tenant_id, r.source_id, max(r.chunk_index) as last from rows r group by 1, 2) k
     where e.tenant_id = k.tenant_id and e.source_type = 'proposal' and e.source_id = k.source_id and e.chunk_index > k.last
  )
  select (select count(*) from src), (select count(*) from written) into n_sources, n_chunks;
  source_type := 'proposal'; sources := n_sources; chunks := n_chunks; return next;

  -- tool outputs
  with src as (
    select v.* from steward.evidence_envelopes v
     where v.result is not null and v.result <> 'null'::jsonb
       and not exists (select from public.evidence_embeddings e
                        where e.tenant_id = v.tenant_id and e.source_type = 'tool_output' and e.source_id = v.id::text
                          and e.chunk_index = 0 and e.metadata ->> 'source_version' = v.version)
     order by v.version, v.id
     limit p_limit
  ), rows as (
    select s.tenant_id, s.id::text as source_id, s.created_at, c.chunk_index, c.chunk,
           jsonb_build_object('tool_slug', s.tool_slug, 'status', s.status, 'source_version', s.version) as metadata
      from src s
      cross join lateral public.evidence_chunks(concat_ws(E'\n',
        'Tool output of ' || s.tool_slug || ' (' || s.status || ')',
        coalesce(nullif(public.evidence_json_text(s.result), ''), s.result::text))) c
  ), written as (
    insert into public.evidence_embeddings as e (tenant_id, source_type, source_id, chunk_index, content, metadata, created_at)
    select r.tenant_id, 'tool_output', r.source_id, r.chunk_index, r.chunk, r.metadata, r.created_at from rows r
    order by r.tenant_id, r.source_id, r.chunk_index
    on conflict (tenant_id, source_type, source_id, chunk_index) where source_id is not null do update
      set content = excluded.content, metadata = excluded.metadata,
          embedding = case when e.content = excluded.content then e.embedding end,
          embedding_model = case when e.content = excluded.content then e.embedding_model end
    returning 1
  ), pruned as (
    delete from public.evidence_embeddings e
     using (select r.tenant_id, r.source_id, max(r.chunk_index) as last from rows r group by 1, 2) k
     where e.tenant_id = k.tenant_id and e.source_type = 'tool_output' and e.source_id = k.source_id and e.chunk_index > k.last
  )
  select (select count(*) from src), (select count(*) from written) into n_sources, n_chunks;
  source_type := 'tool_output'; sources := n_sources; chunks := n_chunks; return next;

  -- audit entries (immutable: collected once)
  with src as (
    select a.* from public.audit_log a
     where a.tenant_id is not null
       and not (a.category = 'outbox' and coalesce(a.payload ->> 'transition', '') in ('claim', 'release'))
       and not exists (select from public.evidence_embeddings e
                        where e.tenant_id = a.tenant_id and e.source_type = 'audit' and e.source_id = a.id::text
                          and e.chunk_index = 0)
     order by a.id
     limit p_limit
  ), rows as (
    select s.tenant_id, s.id::text as source_id, s.created_at, c.chunk_index, c.chunk,
           jsonb_strip_nulls(jsonb_build_object(
             'category', s.category, 'actor_type', s.actor_type, 'actor_id', s.actor_id,
             'transition', s.payload ->> 'transition', 'envelope_id', s.payload ->> 'envelope_id',
             'tool_slug', s.payload ->> 'tool_slug', 'source_version', s.id::text)) as metadata
      from src s
      cross join lateral public.evidence_chunks(concat_ws(E'\n',
        'Audit ' || s.category || coalesce(' ' || (s.payload ->> 'transition'), '')
          || ' by ' || coalesce(s.actor_type, 'unknown') || coalesce(' ' || s.actor_id, ''),
        nullif(public.evidence_json_text(s.payload), ''))) c
  ), written as (
    insert into public.evidence_embeddings (tenant_id, source_type, source_id, chunk_index, content, metadata, created_at)
    select r.tenant_id, 'audit', r.source_id, r.chunk_index, r.chunk, r.metadata, r.created_at from rows r
    order by r.tenant_id, r.source_id, r.chunk_index
    on conflict (tenant_id, source_type, source_id, chunk_index) where source_id is not null do nothing
    returning 1
  )
  select (select count(*) from src), (select count(*) from written) into n_sources, n_chunks;
  source_type := 'audit'; sources := n_sources; chunks := n_chunks; return next;
end $$;

-- ---------------------------------------------------------------------------
-- Search. Every function is security invoker: a tenant's token sees its own rows (RLS),
-- the service role sees all and may narrow to one tenant with p_tenant_id. Semantic
-- search compares rows of one embedding model only (p_embedding_model).

-- The filters every search takes. Inlined by the planner (plain SQL, one expression).
create or replace function public.evidence_filter_ok(
  p_row public.evidence_embeddings, p_tenant_id uuid, p_source_types text[],
  p_created_after timestamptz, p_created_before timestamptz, p_metadata jsonb)
returns boolean
language sql immutable as $$
  select (p_tenant_id is null or p_row.tenant_id = p_tenant_id)
     and (p_source_types is null or p_row.source_type = any (p_source_types))
     and (p_created_after is null or p_row.created_at >= p_created_after)
     and (p_created_before is null or p_row.created_at < p_created_before)
     and (p_metadata is null or p_row.metadata @> p_metadata)
$$;

-- The nearest rows by inner product: HNSW with iterative scans, so that rows filtered
-- out (other tenants, other models, filters) do not eat the result: with a plain scan a
-- tenant holding 5% of the rows gets ~2 of 10 (docs/implementation/evidence-and-search.md).
-- ef_search is raised to the candidate count (an HNSW scan yields at most ef_search rows
-- per pass) and capped at pgvector's maximum, 1000. If the scan still comes back short
-- (few matching rows among many: max_scan_tuples ends the iteration), the exact scan
-- answers instead: a full result set either way. p_exact: null = that (the default),
-- false = the index scan only, true = the exact scan only (tests and benchmarks compare
-- them). Requires pgvector ≥ 0.8.
create or replace function public.evidence_nearest(
  p_query_embedding vector, p_embedding_model text, p_match_count integer default 10,
  p_tenant_id uuid default null, p_source_types text[] default null,
  p_created_after timestamptz default null, p_created_before timestamptz default null,
  p_metadata jsonb default null, p_exact boolean default null)
returns table (id uuid, ip_distance double precision)
language plpgsql stable
set search_path = pg_catalog, public, extensions
set hnsw.ef_search = 100
set hnsw.iterative_scan = relaxed_order
as $$
#variable_conflict use_column
declare
  ids uuid[];
  distances double precision[];
begin
  if p_match_count is null or p_match_count < 1 or p_match_count > 1000 then
    raise exception 'p_match_count must be 1 to 1000' using errcode = '22023';
  end if;
  if p_query_embedding is null or p_embedding_model is null then
    raise exception 'semantic search needs p_query_embedding and p_embedding_model' using errcode = '22023';
  end if;
  -- Local to this call: the function's SET clause restores the caller's value on exit.
  perform set_config('hnsw.ef_search', greatest(100, p_match_count)::text, true);
  if p_exact is distinct from true then
    -- relaxed_order may return rows slightly out of order: materialise, then sort.
    with candidates as materialized (
      select e.id, e.embedding <#> p_query_embedding as d
        from public.evidence_embeddings e
       where e.embedding_model = p_embedding_model
         and public.evidence_filter_ok(e, p_tenant_id, p_source_types, p_created_after, p_created_before, p_metadata)
       order by e.embedding <#> p_query_embedding
       limit p_match_count
    )
    select array_agg(c.id order by c.d), array_agg(c.d order by c.d) into ids, distances from candidates c;
    if coalesce(cardinality(ids), 0) >= p_match_count or p_exact is not null then
      return query select u.id, u.d from unnest(ids, distances) as u(id, d);
      return;
    end if;
  end if;
  -- Exact: `+ 0` makes the sort key an expression the index cannot serve.
  return query
    select e.id, e.embedding <#> p_query_embedding
      from public.evidence_embeddings e
     where e.embedding_model = p_embedding_model
       and public.evidence_filter_ok(e, p_tenant_id, p_source_types, p_created_after, p_created_before, p_metadata)
     order by (e.embedding <#> p_query_embedding) + 0, e.id
     limit p_match_count;
end $$;

-- One search result, the same shape for every mode. score: higher is better (cosine
-- similarity, inner product, 1/(1 + L2 distance), ts_rank_cd, or the RRF sum);
-- distance: the chosen metric's distance (semantic part only).
create type public.evidence_hit as (
  id uuid, tenant_id uuid, source_type text, source_id text, chunk_index integer, content text,
  metadata jsonb, created_at timestamptz, score double precision, distance double precision,
  semantic_rank integer, keyword_rank integer
);

-- p_metric: cosine | inner_product | l2. Stored vectors and the query are unit length
-- (check above; embedders normalise), so all three rank alike; each reports its own value.
create or replace function public.search_evidence_semantic(
  p_query_embedding vector, p_embedding_model text, p_match_count integer default 10,
  p_metric text default 'cosine', p_tenant_id uuid default null, p_source_types text[] default null,
  p_created_after timestamptz default null, p_created_before timestamptz default null,
  p_metadata jsonb default null)
returns setof public.evidence_hit
language plpgsql stable set search_path = pg_catalog, public, extensions as $$
begin
  if p_metric is null or p_metric not in ('cosine', 'inner_product', 'l2') then
    raise exception 'p_metric must be cosine, inner_product or l2' using errcode = '22023';
  end if;
  return query
    select e.id, e.tenant_id, e.source_type, e.source_id, e.chunk_index, e.content, e.metadata, e.created_at,
           case p_metric when 'cosine' then 1 - (e.embedding <=> p_query_embedding)
                         when 'inner_product' then -n.ip_distance
                         else 1 / (1 + (e.embedding <-> p_query_embedding)) end,
           case p_metric when 'cosine' then e.embedding <=> p_query_embedding
                         when 'inner_product' then n.ip_distance
                         else e.embedding <-> p_query_embedding end,
           n.rank::integer, null::integer
      from public.evidence_nearest(p_query_embedding, p_embedding_model, p_match_count, p_tenant_id, p_source_types,
                                   p_created_after, p_created_before, p_metadata) with ordinality as n(id, ip_distance, rank)
      join public.evidence_embeddings e on e.id = n.id
     order by n.rank;
end $$;

-- The text query as a tsquery: websearch syntax ("phrase", -not, or), every word
-- required; or, with p_match_any, any of its words (for long texts such as a proposal,
-- where requiring all words would match nothing but itself).
create or replace function public.evidence_tsquery(p_query text, p_match_any boolean default false)
returns tsquery
language sql immutable set search_path = pg_catalog as $$
  select case when not coalesce(p_match_any, false) then websearch_to_tsquery('english', p_query)
    else (select string_agg(quote_literal(l), ' | ')::tsquery
            from unnest(tsvector_to_array(to_tsvector('english', p_query))) as l) end
$$;

create or replace function public.search_evidence_keyword(
  p_query text, p_match_count integer default 10, p_tenant_id uuid default null,
  p_source_types text[] default null, p_created_after timestamptz default null,
  p_created_before timestamptz default null, p_metadata jsonb default null, p_match_any boolean default false)
returns setof public.evidence_hit
-- Security definer, with the caller's rows written out (as decide_approval does): under
-- RLS the planner must apply the tenant policy before `@@` (not leakproof), so a tenant's
-- search rechecked every row of the tenant instead of using the GIN index (bench/search:
-- p95 26 ms for the largest tenant). The service role sees every tenant (narrowed by
-- p_tenant_id), an authenticated token its own tenant's rows, anyone else nothing: what
-- evidence_embeddings' policies give (004_rls).
language plpgsql stable security definer set search_path = pg_catalog, public, extensions as $$
declare
  q tsquery := public.evidence_tsquery(p_query, p_match_any);
  claims jsonb := coalesce(auth.jwt(), '{}'::jsonb);
  visible uuid;
  all_tenants boolean := claims ->> 'role' = 'service_role';
begin
  if p_match_count is null or p_match_count < 1 or p_match_count > 1000 then
    raise exception 'p_match_count must be 1 to 1000' using errcode = '22023';
  end if;
  if not all_tenants then
    if claims ->> 'role' is distinct from 'authenticated' then return; end if;
    visible := public.current_tenant_id_uuid();
    if visible is null then return; end if;
  end if;
  return query
    select e.id, e.tenant_id, e.source_type, e.source_id, e.chunk_index, e.content, e.metadata, e.created_at,
           k.score, null::double precision, null::integer, k.rank::integer
      from (select x.id, x.score, row_number() over (order by x.score desc, x.id) as rank
              from (select e.id, ts_rank_cd(e.content_tsv, q, 32)::double precision as score
                      from public.evidence_embeddings e
                     where e.content_tsv @@ q
                       and (all_tenants or e.tenant_id = visible)
                       and public.evidence_filter_ok(e, p_tenant_id, p_source_types, p_created_after, p_created_before, p_metadata)
                     order by 2 desc, 1
                     limit p_match_count) x) k
      join public.evidence_embeddings e on e.id = k.id
     order by k.rank;
end $$;

-- Reciprocal rank fusion: each side's top p_candidates (default 4 × p_match_count, at
-- least 40), a row scoring Σ weight / (p_rrf_k + rank) over the sides that found it.
-- Weights 0 switch a side off; rows only one side finds still count.
create or replace function public.search_evidence_hybrid(
  p_query text, p_query_embedding vector, p_embedding_model text, p_match_count integer default 10,
  p_semantic_weight double precision default 1, p_keyword_weight double precision default 1,
  p_rrf_k integer default 60, p_tenant_id uuid default null, p_source_types text[] default null,
  p_created_after timestamptz default null, p_created_before timestamptz default null,
  p_metadata jsonb default null, p_match_any boolean default false, p_candidates integer default null)
returns setof public.evidence_hit
language plpgsql stable set search_path = pg_catalog, public, extensions as $$
declare
  k integer := least(1000, coalesce(p_candidates, greatest(40, 4 * p_match_count)));
begin
  if p_match_count is null or p_match_count < 1 or p_match_count > 1000 then
    raise exception 'p_match_count must be 1 to 1000' using errcode = '22023';
  end if;
  if p_semantic_weight < 0 or p_keyword_weight < 0 or p_rrf_k < 1 then
    raise exception 'weights must be ≥ 0 and p_rrf_k ≥ 1' using errcode = '22023';
  end if;
  return query
    with semantic as (
      select s.id, s.distance, s.semantic_rank as rank
        from public.search_evidence_semantic(p_query_embedding, p_embedding_model, greatest(k, p_match_count), 'cosine',
               p_tenant_id, p_source_types, p_created_after, p_created_before, p_metadata) s
       where p_semantic_weight > 0
    ), keyword as (
      select w.id, w.keyword_rank as rank
        from public.search_evidence_keyword(p_query, greatest(k, p_match_count), p_tenant_id, p_source_types,
               p_created_after, p_created_before, p_metadata, p_match_any) w
       where p_keyword_weight > 0
    ), fused as (
      select coalesce(s.id, w.id) as id, s.distance, s.rank as s_rank, w.rank as w_rank,
             coalesce(p_semantic_weight / (p_rrf_k + s.rank), 0) + coalesce(p_keyword_weight / (p_rrf_k + w.rank), 0) as score
        from semantic s full outer join keyword w on w.id = s.id
    )
    -- The top p_match_count first, then each row by primary key: joined whole, the
    -- planner (estimating each half at 1,000 rows) hashed every row the caller can see
    -- (bench/search: hybrid p95 93 ms → see docs/operations/benchmarks.md).
    select e.id, e.tenant_id, e.source_type, e.source_id, e.chunk_index, e.content, e.metadata, e.created_at,
           f.score, f.distance, f.s_rank, f.w_rank
      from (select * from fused f
             order by f.score desc, coalesce(f.s_rank, 2147483647), coalesce(f.w_rank, 2147483647), f.id
             limit p_match_count) f
      cross join lateral (select x.* from public.evidence_embeddings x where x.id = f.id) e
     order by f.score desc, coalesce(f.s_rank, 2147483647), coalesce(f.w_rank, 2147483647), f.id;
end $$;

-- ---------------------------------------------------------------------------
-- The use cases' RPCs.

-- The text an envelope (queued, finished or dead-lettered) is looked up by; null when the
-- caller cannot see it.
create or replace function public.evidence_query_for_envelope(p_envelope_id uuid)
returns text
language sql stable set search_path = pg_catalog, public as $$
  select public.evidence_proposal_text(x.tool_slug, x.risk, x.arguments, x.trust_context)
    from (select o.tool_slug, o.risk, o.arguments, o.trust_context from public.outbox o where o.id = p_envelope_id
          union all
          select d.tool_slug, d.risk, d.arguments, d.trust_context from public.outbox_dlq d where d.id = p_envelope_id) x
   limit 1
$$;

-- Evidence about a proposal (what a `require_evidence` check can point at): hybrid search
-- in the envelope's tenant by the envelope's own text, any-word keywords, the envelope's
-- own evidence left out. p_query_embedding is the embedding of
-- evidence_query_for_envelope(p_envelope_id) under p_embedding_model.
create or replace function public.evidence_for_proposal(
  p_envelope_id uuid, p_query_embedding vector, p_embedding_model text, p_match_count integer default 5,
  p_source_types text[] default null)
returns setof public.evidence_hit
language plpgsql stable set search_path = pg_catalog, public, extensions as $$
declare
  tenant uuid;
  query text := public.evidence_query_for_envelope(p_envelope_id);
begin
  select x.tenant_id into tenant
    from (select o.tenant_id from public.outbox o where o.id = p_envelope_id
          union all select d.tenant_id from public.outbox_dlq d where d.id = p_envelope_id) x limit 1;
  if tenant is null then
    raise exception 'envelope % not found', p_envelope_id using errcode = 'P0002';
  end if;
  return query
    select h.* from public.search_evidence_hybrid(query, p_query_embedding, p_embedding_model, least(1000, p_match_count + 10),
                      p_tenant_id => tenant, p_source_types => p_source_types, p_match_any => true) h
     where h.source_id is distinct from p_envelope_id::text
     order by h.score desc, h.id
     limit p_match_count;
end $$;

-- Guardrail learning's input: the past proposals most similar to an envelope, one row
-- per proposal (its best chunk), with the decision and outcome collect_evidence recorded.
create or replace function public.similar_decisions(
  p_envelope_id uuid, p_query_embedding vector, p_embedding_model text, p_match_count integer default 10)
returns table (evidence_id uuid, envelope_id text, tool_slug text, decision text, outcome text,
               trust_score double precision, similarity double precision, content text, created_at timestamptz)
language plpgsql stable set search_path = pg_catalog, public, extensions as $$
#variable_conflict use_column
declare
  tenant uuid;
begin
  select x.tenant_id into tenant
    from (select o.tenant_id from public.outbox o where o.id = p_envelope_id
          union all select d.tenant_id from public.outbox_dlq d where d.id = p_envelope_id) x limit 1;
  if tenant is null then
    raise exception 'envelope % not found', p_envelope_id using errcode = 'P0002';
  end if;
  return query
    select b.id, b.source_id, b.metadata ->> 'tool_slug', b.metadata ->> 'decision', b.metadata ->> 'outcome',
           (b.metadata ->> 'trust_score')::double precision, b.score, b.content, b.created_at
      from (select distinct on (h.source_id) h.*
              from public.search_evidence_semantic(p_query_embedding, p_embedding_model, least(1000, 3 * p_match_count + 5),
                     'cosine', tenant, array['proposal']) h
             where h.source_id is distinct from p_envelope_id::text and h.metadata ? 'decision'
             order by h.source_id, h.score desc) b
     order by b.score desc, b.id
     limit p_match_count;
end $$;

-- Context for an agent's prompt: hybrid results (any-word keywords), duplicates dropped
-- (same text up to case and spacing, keeping the better ranked), taken greedily in rank
-- order while they fit p_budget_tokens. Tokens are estimated as ⌈characters / 4⌉.
create or replace function public.evidence_context(
  p_query text, p_query_embedding vector, p_embedding_model text, p_budget_tokens integer,
  p_tenant_id uuid default null, p_source_types text[] default null, p_candidates integer default 50)
returns table (id uuid, source_type text, source_id text, chunk_index integer, content text, metadata jsonb,
               created_at timestamptz, score double precision, tokens integer, rank integer)
language plpgsql stable set search_path = pg_catalog, public, extensions as $$
#variable_conflict use_column
declare
  used integer := 0;
  n integer := 0;
  h record;
begin
  if p_budget_tokens is null or p_budget_tokens < 1 then
    raise exception 'p_budget_tokens must be at least 1' using errcode = '22023';
  end if;
  for h in
    select d.* from (
      select distinct on (lower(regexp_replace(btrim(x.content), '\s+', ' ', 'g'))) x.*
        from (select s.*, row_number() over (order by s.score desc, s.id) as ord
                from public.search_evidence_hybrid(p_query, p_query_embedding, p_embedding_model, least(1000, p_candidates),
                       p_tenant_id => p_tenant_id, p_source_types => p_source_types, p_match_any => true) s) x
       order by lower(regexp_replace(btrim(x.content), '\s+', ' ', 'g')), x.ord) d
    order by d.ord
  loop
    tokens := ceil(length(h.content) / 4.0)::integer;
    continue when used + tokens > p_budget_tokens;
    used := used + tokens;
    n := n + 1;
    id := h.id; source_type := h.source_type; source_id := h.source_id; chunk_index := h.chunk_index;
    content := h.content; metadata := h.metadata; created_at := h.created_at; score := h.score; rank := n;
    return next;
  end loop;
end $$;

-- ---------------------------------------------------------------------------
-- trust_suggestions: guardrail learning's output, for a person to review. A suggestion
-- never changes guardrails.trust_threshold; accepting one records the review only.
create table public.trust_suggestions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- not a foreign key: the envelope may move to the DLQ or be purged; the suggestion stays
  envelope_id uuid not null,
  tool_slug text not null,
  embedding_model text not null,
  current_threshold numeric check (current_threshold between 0 and 1),
  suggested_threshold numeric check (suggested_threshold between 0 and 1),
  adjustment numeric not null check (adjustment between -1 and 1),
  envelope_trust_score numeric,
  -- ["3 of 4 similar proposals were approved by a person", …]
  reasons jsonb not null default '[]' check (jsonb_typeof(reasons) = 'array'),
  -- [{evidence_id, envelope_id, tool_slug, decision, outcome, trust_score, similarity}]
  neighbours jsonb not null default '[]' check (jsonb_typeof(neighbours) = 'array' and octet_length(neighbours::text) <= 65536),
  status text not null default 'open' check (status in ('open', 'accepted', 'dismissed')),
  reviewed_by text,
  reviewed_at timestamptz,
  review_note text check (length(review_note) <= 2000),
  created_at timestamptz not null default now(),
  check ((status = 'open') = (reviewed_at is null))
);
-- One open suggestion per envelope and model: asking again replaces it.
create unique index trust_suggestions_open_uidx on public.trust_suggestions (tenant_id, envelope_id, embedding_model) where status = 'open';
create index trust_suggestions_tenant_created_idx on public.trust_suggestions (tenant_id, created_at desc);

alter table public.trust_suggestions enable row level security;
revoke all on table public.trust_suggestions from public, anon, authenticated, service_role;
grant select on table public.trust_suggestions to authenticated;
grant select, insert, update, delete, truncate on table public.trust_suggestions to service_role;
create policy tenant_isolation on public.trust_suggestions as permissive for all to authenticated
  using (tenant_id = (select public.current_tenant_id_uuid()))
  with check (tenant_id = (select public.current_tenant_id_uuid()));
create policy service_role_full_access on public.trust_suggestions as permissive for all to service_role
  using (true) with check (true);

-- ---------------------------------------------------------------------------
-- Grants. Searches and renderers: tenants and the service role (RLS applies inside).
-- Collection: the service role.
revoke all on function
  public.evidence_json_text(jsonb), public.evidence_proposal_text(text, text, jsonb, jsonb),
  public.evidence_proposal_outcome(text, text, text), public.evidence_outcome_text(jsonb, text, text),
  public.evidence_chunks(text, integer),
  public.evidence_filter_ok(public.evidence_embeddings, uuid, text[], timestamptz, timestamptz, jsonb),
  public.evidence_nearest(vector, text, integer, uuid, text[], timestamptz, timestamptz, jsonb, boolean),
  public.search_evidence_semantic(vector, text, integer, text, uuid, text[], timestamptz, timestamptz, jsonb),
  public.evidence_tsquery(text, boolean),
  public.search_evidence_keyword(text, integer, uuid, text[], timestamptz, timestamptz, jsonb, boolean),
  public.search_evidence_hybrid(text, vector, text, integer, double precision, double precision, integer, uuid, text[],
                                timestamptz, timestamptz, jsonb, boolean, integer),
  public.evidence_query_for_envelope(uuid),
  public.evidence_for_proposal(uuid, vector, text, integer, text[]),
  public.similar_decisions(uuid, vector, text, integer),
  public.evidence_context(text, vector, text, integer, uuid, text[], integer),
  steward.collect_evidence(integer)
  from public, anon;
grant execute on function
  public.evidence_json_text(jsonb), public.evidence_proposal_text(text, text, jsonb, jsonb),
  public.evidence_proposal_outcome(text, text, text), public.evidence_outcome_text(jsonb, text, text),
  public.evidence_chunks(text, integer),
  public.evidence_filter_ok(public.evidence_embeddings, uuid, text[], timestamptz, timestamptz, jsonb),
  public.evidence_nearest(vector, text, integer, uuid, text[], timestamptz, timestamptz, jsonb, boolean),
  public.search_evidence_semantic(vector, text, integer, text, uuid, text[], timestamptz, timestamptz, jsonb),
  public.evidence_tsquery(text, boolean),
  public.search_evidence_keyword(text, integer, uuid, text[], timestamptz, timestamptz, jsonb, boolean),
  public.search_evidence_hybrid(text, vector, text, integer, double precision, double precision, integer, uuid, text[],
                                timestamptz, timestamptz, jsonb, boolean, integer),
  public.evidence_query_for_envelope(uuid),
  public.evidence_for_proposal(uuid, vector, text, integer, text[]),
  public.similar_decisions(uuid, vector, text, integer),
  public.evidence_context(text, vector, text, integer, uuid, text[], integer)
  to authenticated, service_role;
grant execute on function steward.collect_evidence(integer) to service_role;
