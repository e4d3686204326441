import type { Queryable } from '../db/types.ts';
import type { EvidenceHit, Metric } from './evidence-types.ts';

// The statements evidence code runs, one named function each. The SQL functions they call
// are in db/migrations/010_evidence_search.sql.

/** Filters every search takes; undefined = no filter. */
export interface EvidenceFilters {
  tenantId?: string | undefined;
  sourceTypes?: readonly string[] | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  /** Rows whose metadata contains this object (jsonb @>). */
  metadata?: Record<string, unknown> | undefined;
}

const HIT = 'id, tenant_id, source_type, source_id, chunk_index, content, metadata, created_at, score, distance, semantic_rank, keyword_rank';

function filterParams(f: EvidenceFilters): unknown[] {
  return [
    f.tenantId ?? null,
    f.sourceTypes ? [...f.sourceTypes] : null,
    f.createdAfter ?? null,
    f.createdBefore ?? null,
    f.metadata ? JSON.stringify(f.metadata) : null,
  ];
}

export async function semanticSearch(q: Queryable, vector: string, model: string, limit: number, metric: Metric, f: EvidenceFilters): Promise<EvidenceHit[]> {
  const res = await q.query<EvidenceHit>(
    `select ${HIT} from public.search_evidence_semantic($1::vector, $2, $3, $4, $5, $6::text[], $7, $8, $9::jsonb)`,
    [vector, model, limit, metric, ...filterParams(f)],
  );
  return res.rows;
}

export async function keywordSearch(q: Queryable, text: string, limit: number, f: EvidenceFilters, matchAny = false): Promise<EvidenceHit[]> {
  const res = await q.query<EvidenceHit>(
    `select ${HIT} from public.search_evidence_keyword($1, $2, $3, $4::text[], $5, $6, $7::jsonb, $8)`,
    [text, limit, ...filterParams(f), matchAny],
  );
  return res.rows;
}

export interface HybridWeights {
  semantic?: number;
  keyword?: number;
  rrfK?: number;
  matchAny?: boolean;
}

export async function hybridSearch(q: Queryable, text: string, vector: string, model: string, limit: number, w: HybridWeights, f: EvidenceFilters): Promise<EvidenceHit[]> {
  const res = await q.query<EvidenceHit>(
    `select ${HIT} from public.search_evidence_hybrid($1, $2::vector, $3, $4, $5, $6, $7, $8, $9::text[], $10, $11, $12::jsonb, $13)`,
    [text, vector, model, limit, w.semantic ?? 1, w.keyword ?? 1, w.rrfK ?? 60, ...filterParams(f), w.matchAny ?? false],
  );
  return res.rows;
}

/** The text an envelope is looked up by, or undefined when the caller cannot see it. */
export async function envelopeQueryText(q: Queryable, envelopeId: string): Promise<string | undefined> {
  const res = await q.query<{ text: string | null }>('select public.evidence_query_for_envelope($1) as text', [envelopeId]);
  return res.rows[0]?.text ?? undefined;
}

export async function evidenceForProposal(q: Queryable, envelopeId: string, vector: string, model: string, limit: number, sourceTypes: readonly string[] | undefined): Promise<EvidenceHit[]> {
  const res = await q.query<EvidenceHit>(
    `select ${HIT} from public.evidence_for_proposal($1, $2::vector, $3, $4, $5::text[])`,
    [envelopeId, vector, model, limit, sourceTypes ? [...sourceTypes] : null],
  );
  return res.rows;
}

export interface SimilarDecision {
  evidence_id: string;
  envelope_id: string;
  tool_slug: string | null;
  decision: string;
  outcome: string | null;
  trust_score: number | null;
  similarity: number;
  content: string;
  created_at: Date;
}

export async function similarDecisions(q: Queryable, envelopeId: string, vector: string, model: string, limit: number): Promise<SimilarDecision[]> {
  const res = await q.query<SimilarDecision>(
    'select * from public.similar_decisions($1, $2::vector, $3, $4)',
    [envelopeId, vector, model, limit],
  );
  return res.rows;
}

export interface ContextRow {
  id: string;
  source_type: string;
  source_id: string | null;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  score: number;
  tokens: number;
  rank: number;
}

export async function evidenceContext(q: Queryable, text: string, vector: string, model: string, budget: number, f: Pick<EvidenceFilters, 'tenantId' | 'sourceTypes'>, candidates: number): Promise<ContextRow[]> {
  const res = await q.query<ContextRow>(
    'select * from public.evidence_context($1, $2::vector, $3, $4, $5, $6::text[], $7)',
    [text, vector, model, budget, f.tenantId ?? null, f.sourceTypes ? [...f.sourceTypes] : null, candidates],
  );
  return res.rows;
}

// --- collection and re-indexing (service role) ---

export interface CollectedCount {
  source_type: string;
  sources: number;
  chunks: number;
}

export async function collectEvidenceBatch(q: Queryable, limit: number): Promise<CollectedCount[]> {
  const res = await q.query<CollectedCount>('select source_type, sources, chunks from steward.collect_evidence($1)', [limit]);
  return res.rows;
}

/** Rows whose embedding is missing or of another model. */
export async function countToEmbed(q: Queryable, model: string, tenantId: string | undefined): Promise<number> {
  const res = await q.query<{ n: number }>(
    `select count(*)::int as n from public.evidence_embeddings
      where embedding_model is distinct from $1 and ($2::uuid is null or tenant_id = $2)`,
    [model, tenantId ?? null],
  );
  return res.rows[0]?.n ?? 0;
}

export interface RowToEmbed {
  id: string;
  content: string;
  content_md5: string;
}

/** The next rows to embed after `afterId` (keyset order by id: each run visits a row once). */
export async function rowsToEmbed(q: Queryable, model: string, afterId: string | null, limit: number, tenantId: string | undefined): Promise<RowToEmbed[]> {
  const res = await q.query<RowToEmbed>(
    `select id, content, md5(content) as content_md5 from public.evidence_embeddings
      where embedding_model is distinct from $1 and ($2::uuid is null or id > $2)
        and ($4::uuid is null or tenant_id = $4)
      order by id limit $3`,
    [model, afterId, limit, tenantId ?? null],
  );
  return res.rows;
}

/**
 * Writes vectors for rows whose content is still what was embedded (a collection that
 * rewrote a row meanwhile cleared its embedding: it will be embedded again). Returns how
 * many rows were written.
 */
export async function writeEmbeddings(q: Queryable, model: string, rows: readonly { id: string; content_md5: string; vector: string }[]): Promise<number> {
  const res = await q.query(
    `update public.evidence_embeddings e set embedding = x.v::vector, embedding_model = $1
       from unnest($2::uuid[], $3::text[], $4::text[]) as x(id, h, v)
      where e.id = x.id and md5(e.content) = x.h and e.embedding_model is distinct from $1`,
    [model, rows.map((r) => r.id), rows.map((r) => r.content_md5), rows.map((r) => r.vector)],
  );
  return res.rowCount;
}

export interface ModelCount {
  embedding_model: string | null;
  rows: number;
}

/** Evidence rows per embedding model (null: not embedded yet). */
export async function countByModel(q: Queryable, tenantId: string | undefined): Promise<ModelCount[]> {
  const res = await q.query<ModelCount>(
    `select embedding_model, count(*)::int as rows from public.evidence_embeddings
      where ($1::uuid is null or tenant_id = $1) group by 1 order by 1 nulls first`,
    [tenantId ?? null],
  );
  return res.rows;
}
