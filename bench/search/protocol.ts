// What the runner sends to a measurement child (one JSON argument) and what the child
// prints back (one JSON line on stdout). Shared by runner.ts, search.ts and embed.ts.
import type { Structure } from './dataset.ts';

export type Engine = 'postgres' | 'pglite';

/** One engine: load the corpus, build the indexes, run every search method on the same queries. */
export interface SearchRequest {
  kind: 'search';
  config: string;
  engine: Engine;
  /** The bench database (PostgreSQL); absent for PGlite (a temporary data directory). */
  url?: string;
  rows: number;
  tenants: number;
  queries: number;
  /** Measured passes over the queries (recall is taken from the first). */
  reps: number;
  /** Queries run through every method before the measured passes (not recorded). */
  warmup: number;
  seed: number;
  /** Top-k of every search. */
  k: number;
  /** Rows per INSERT statement while loading. */
  insertBatch: number;
  /** maintenance_work_mem for the index builds (set locally in their transaction). */
  maintenanceWorkMem: string;
  /** Methods to run (names from search-methods.ts); empty = all. */
  methods: string[];
}

/** Throughput of one embedder on real sentences. */
export interface EmbedRequest {
  kind: 'embed';
  config: string;
  embedder: 'default' | 'hashing';
  /** Sentences to embed (from README.md and docs/). */
  sentences: number;
  /** Texts per embed() call: the re-indexer's default batch. */
  batch: number;
}

export type MeasurementRequest = SearchRequest | EmbedRequest;

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface MethodResult {
  method: string;
  /** Queries whose results were compared with the exact top-k. */
  queries: number;
  /** Mean over queries of |result ∩ exact top-k| / |exact top-k|; null where not comparable (keyword, hybrid). */
  recall: number | null;
  /** The lowest of the per-tenant mean recalls. */
  recallWorstTenant: number | null;
  /** Mean recall of the `row` queries and of the `centroid` queries. */
  recallByKind: { row: number; centroid: number } | null;
  /** Mean rows returned (k unless the method comes back short). */
  rowsMean: number;
  /** Share of queries that returned fewer than k rows. */
  shortShare: number;
  /** Hybrid and keyword: mean rows the keyword half matched (keyword_rank not null). */
  keywordRowsMean: number | null;
  /** The whole call as a tenant makes it: asTenant (BEGIN, role + claims, the statement(s), COMMIT). */
  latencyMs: LatencySummary;
  /** The search statement alone. */
  queryMs: LatencySummary;
}

export interface SearchResult {
  kind: 'search';
  config: string;
  engine: Engine;
  serverVersion: string;
  pgvectorVersion: string;
  settings: Record<string, string>;
  rows: number;
  tenants: number;
  /** Rows per tenant, largest first as loaded. */
  tenantRows: number[];
  queries: number;
  reps: number;
  /** Structure of 1,000 evenly spaced rows of the corpus (compare with the default embedder's). */
  structure: Structure;
  /** Seconds: generating + inserting the rows (indexes other than HNSW and GIN in place), GIN build, HNSW build, VACUUM ANALYZE. */
  load: { seconds: number; rowsPerSecond: number; ginSeconds: number; hnswSeconds: number; vacuumSeconds: number; meanContentChars: number };
  sizes: { tableMB: number; hnswMB: number; ginMB: number };
  /** The top plan lines of the plain pgvector statements, as a tenant (is the HNSW index used?). */
  plans: Record<string, string>;
  methods: MethodResult[];
  /** Share of the machine's CPU time not idle during the query phase (all processes). */
  machineBusy: number | null;
  querySeconds: number;
}

export interface EmbedResult {
  kind: 'embed';
  config: string;
  embedder: string;
  modelId: string;
  texts: number;
  meanChars: number;
  batch: number;
  /** First call (one text): loading the model. */
  loadMs: number;
  seconds: number;
  textsPerSecond: number;
  /** Structure of the vectors (the default embedder's is what the synthetic corpus is calibrated on). */
  structure: Structure;
  machineBusy: number | null;
}

export type MeasurementResult = SearchResult | EmbedResult;
