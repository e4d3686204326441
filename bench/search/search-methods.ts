// The searches a run compares, each as a tenant calls it: inside Database.asTenant (role
// `authenticated`, the tenant's claims; RLS keeps other tenants' rows out, no tenant
// filter in the statement); the two `-svc` methods as the service role instead. Steward's go through src/evidence/evidence-queries.ts, the
// statements SqlEvidenceSearch runs; the plain pgvector ones are what an application
// without Steward's safeguards would write against the same table and index.
import type { Transaction } from '../../src/db/types.ts';
import { hybridSearch, keywordSearch, semanticSearch } from '../../src/evidence/evidence-queries.ts';
import { MODEL_ID } from './dataset.ts';

export interface PreparedQuery {
  index: number;
  tenant: number;
  kind: 'row' | 'centroid';
  /** The query vector as pgvector text. */
  literal: string;
  /** Two words (websearch syntax: both required). */
  text: string;
}

export interface MethodOutput {
  ids: string[];
  /** Rows the keyword half matched (hybrid, keyword); null for vector-only methods. */
  keywordRows: number | null;
  /** The search statement alone, ms. */
  queryMs: number;
}

export interface SearchMethod {
  name: string;
  description: string;
  /** Compared with the exact top-k (recall@k). */
  vector: boolean;
  /** `tenant`: asTenant with the query's tenant (the default); `service`: asService, narrowed by p_tenant_id. */
  as?: 'tenant' | 'service';
  run(tx: Transaction, q: PreparedQuery, k: number, tenantId: string): Promise<MethodOutput>;
}

async function timedIds(tx: Transaction, sql: string, params: unknown[]): Promise<MethodOutput> {
  const t0 = performance.now();
  const res = await tx.query<{ id: string }>(sql, params);
  return { ids: res.rows.map((r) => r.id), keywordRows: null, queryMs: performance.now() - t0 };
}

const PLAIN_KNN_IP = `select id from public.evidence_embeddings where embedding_model = $2 order by embedding <#> $1::vector limit $3`;
const PLAIN_KNN_COSINE = `select id from public.evidence_embeddings where embedding_model = $2 order by embedding <=> $1::vector limit $3`;

/** The ground truth: Steward's exact mode. Always run, first, for every query. */
export const EXACT: SearchMethod = {
  name: 'steward-exact',
  description: 'evidence_nearest(…, p_exact => true): Steward\'s exact mode (no index; the ground truth of every recall)',
  vector: true,
  run: (tx, q, k) => timedIds(tx, `select id from public.evidence_nearest($1::vector, $2, $3, p_exact => true)`, [q.literal, MODEL_ID, k]),
};

export const METHODS: readonly SearchMethod[] = [
  EXACT,
  {
    name: 'pgvector-exact',
    description: 'plain `order by embedding <=> q limit k` with `enable_indexscan = off` (exact; a check on the ground truth)',
    vector: true,
    async run(tx, q, k) {
      await tx.query(`select set_config('enable_indexscan', 'off', true)`);
      return timedIds(tx, PLAIN_KNN_COSINE, [q.literal, MODEL_ID, k]);
    },
  },
  {
    name: 'pgvector-hnsw',
    description: 'plain `order by embedding <#> q limit k` through the HNSW index, pgvector\'s defaults set explicitly (ef_search 40, iterative_scan off): the filtered-HNSW trap',
    vector: true,
    async run(tx, q, k) {
      await tx.query(`select set_config('hnsw.ef_search', '40', true), set_config('hnsw.iterative_scan', 'off', true)`);
      return timedIds(tx, PLAIN_KNN_IP, [q.literal, MODEL_ID, k]);
    },
  },
  {
    name: 'pgvector-hnsw-iter',
    description: 'the same statement with Steward\'s settings but not its function: iterative_scan relaxed_order, ef_search 100',
    vector: true,
    async run(tx, q, k) {
      await tx.query(`select set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      return timedIds(tx, PLAIN_KNN_IP, [q.literal, MODEL_ID, k]);
    },
  },
  {
    name: 'steward-index',
    description: 'evidence_nearest(…, p_exact => false): Steward\'s index path alone, no exact fallback',
    vector: true,
    run: (tx, q, k) => timedIds(tx, `select id from public.evidence_nearest($1::vector, $2, $3, p_exact => false)`, [q.literal, MODEL_ID, k]),
  },
  {
    name: 'steward-semantic',
    description: 'search_evidence_semantic(…, cosine), as SqlEvidenceSearch calls it: the index, iterative scan, exact fallback if short',
    vector: true,
    async run(tx, q, k) {
      const t0 = performance.now();
      const hits = await semanticSearch(tx, q.literal, MODEL_ID, k, 'cosine', {});
      return { ids: hits.map((h) => h.id), keywordRows: null, queryMs: performance.now() - t0 };
    },
  },
  {
    name: 'steward-keyword',
    description: 'search_evidence_keyword(two words, all required), as SqlEvidenceSearch calls it',
    vector: false,
    async run(tx, q, k) {
      const t0 = performance.now();
      const hits = await keywordSearch(tx, q.text, k, {});
      return { ids: hits.map((h) => h.id), keywordRows: hits.length, queryMs: performance.now() - t0 };
    },
  },
  {
    name: 'steward-hybrid',
    description: 'search_evidence_hybrid(two words, vector; weights 1/1, k 60, 40 candidates a side), as SqlEvidenceSearch calls it',
    vector: false,
    async run(tx, q, k) {
      const t0 = performance.now();
      const hits = await hybridSearch(tx, q.text, q.literal, MODEL_ID, k, {}, {});
      return { ids: hits.map((h) => h.id), keywordRows: hits.filter((h) => h.keyword_rank !== null).length, queryMs: performance.now() - t0 };
    },
  },
  {
    name: 'steward-keyword-svc',
    description: 'steward-keyword as the service role (BYPASSRLS) narrowed with p_tenant_id: the same rows without RLS',
    vector: false,
    as: 'service',
    async run(tx, q, k, tenantId) {
      const t0 = performance.now();
      const hits = await keywordSearch(tx, q.text, k, { tenantId });
      return { ids: hits.map((h) => h.id), keywordRows: hits.length, queryMs: performance.now() - t0 };
    },
  },
  {
    name: 'steward-hybrid-svc',
    description: 'steward-hybrid as the service role (BYPASSRLS) narrowed with p_tenant_id: the same rows without RLS',
    vector: false,
    as: 'service',
    async run(tx, q, k, tenantId) {
      const t0 = performance.now();
      const hits = await hybridSearch(tx, q.text, q.literal, MODEL_ID, k, {}, { tenantId });
      return { ids: hits.map((h) => h.id), keywordRows: hits.filter((h) => h.keyword_rank !== null).length, queryMs: performance.now() - t0 };
    },
  },
];

export function selectMethods(names: readonly string[]): SearchMethod[] {
  if (names.length === 0) return [...METHODS];
  const unknown = names.filter((n) => !METHODS.some((m) => m.name === n));
  if (unknown.length > 0) throw new Error(`unknown method(s) ${unknown.join(', ')}; known: ${METHODS.map((m) => m.name).join(', ')}`);
  // The exact search always runs: it is the ground truth.
  return METHODS.filter((m) => m === EXACT || names.includes(m.name));
}

/** The statements whose plans a run records (as a tenant, with the method's settings). */
export const PLANNED: readonly { name: string; settings: string; sql: string }[] = [
  { name: 'pgvector-exact', settings: `select set_config('enable_indexscan', 'off', true)`, sql: PLAIN_KNN_COSINE },
  { name: 'pgvector-hnsw', settings: `select set_config('hnsw.ef_search', '40', true), set_config('hnsw.iterative_scan', 'off', true)`, sql: PLAIN_KNN_IP },
];
