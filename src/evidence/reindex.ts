import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../db/database.ts';
import { serviceAccess } from '../services/access.ts';
import { EVIDENCE_DIMENSIONS, type Embedder } from './embedders/embedder.ts';
import { countToEmbed, rowsToEmbed, writeEmbeddings } from './evidence-queries.ts';
import { collectEvidence, type CollectReport } from './ingest.ts';
import { toVectorLiteral } from './vector-literal.ts';

// The re-indexer: collects new sources, then embeds every evidence row that has no
// embedding or one of another model, in batches (read → embed outside any transaction →
// write), so a model switch re-embeds everything rather than mixing models. Runs as the
// service role; the worker never waits for it (the nightly `embeddings.reindex` job, the
// `steward.evidence.reindex` system envelope, or `steward evidence reindex`).

export interface ReindexOptions {
  /** Texts per embed call and per write transaction (default 32). */
  batchSize?: number;
  /** Stop after this many rows (a nightly budget); the rest wait for the next run. */
  limit?: number;
  /** Only this tenant's rows (collection still covers every tenant). */
  tenantId?: string;
  /** Collect new sources first (default true). */
  collect?: boolean;
  onProgress?: (progress: ReindexProgress) => void;
  signal?: AbortSignal;
}

export interface ReindexProgress {
  model: string;
  /** Rows to embed when this run started. */
  total: number;
  embedded: number;
  /** Rows this run could not embed (a changed row, an invalid vector); retried next run. */
  skipped: number;
}

export interface ReindexReport extends ReindexProgress {
  collected: CollectReport;
  /** Rows still to embed when this run ended (its limit was reached, or rows were skipped). */
  remaining: number;
  ms: number;
}

export async function reindexEvidence(db: Database, embedder: Embedder, options: ReindexOptions = {}): Promise<ReindexReport> {
  const started = performance.now();
  const access = serviceAccess(db);
  const model = embedder.modelId;
  const batchSize = options.batchSize ?? 32;
  if (embedder.dimensions !== EVIDENCE_DIMENSIONS) {
    throw new RangeError(`${model} embeds ${embedder.dimensions} dimensions; evidence holds ${EVIDENCE_DIMENSIONS}`);
  }
  const collected = options.collect === false ? {} : await collectEvidence(access, { ...(options.signal ? { signal: options.signal } : {}) });
  const total = await access.run((tx) => countToEmbed(tx, model, options.tenantId));
  const progress: ReindexProgress = { model, total, embedded: 0, skipped: 0 };
  options.onProgress?.({ ...progress });
  const budget = options.limit ?? Number.POSITIVE_INFINITY;
  let after: string | null = null;
  while (progress.embedded + progress.skipped < budget) {
    options.signal?.throwIfAborted();
    const take = Math.min(batchSize, budget - progress.embedded - progress.skipped);
    const rows = await access.run((tx) => rowsToEmbed(tx, model, after, take, options.tenantId));
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    const vectors = await embedder.embed(rows.map((r) => r.content), options.signal ? { signal: options.signal } : {});
    const writable = rows.flatMap((r, i) => {
      const v = vectors[i];
      return v && isUnitVector(v) ? [{ id: r.id, content_md5: r.content_md5, vector: toVectorLiteral(v) }] : [];
    });
    const written = writable.length === 0 ? 0 : await access.run((tx) => writeEmbeddings(tx, model, writable));
    progress.embedded += written;
    progress.skipped += rows.length - written;
    options.onProgress?.({ ...progress });
    await nextTurn(); // let other work on this event loop (a co-located worker) run
  }
  const remaining = await access.run((tx) => countToEmbed(tx, model, options.tenantId));
  return { ...progress, collected, remaining, ms: Math.round(performance.now() - started) };
}

function isUnitVector(v: Float32Array): boolean {
  if (v.length !== EVIDENCE_DIMENSIONS) return false;
  let sum = 0;
  for (const x of v) sum += x * x;
  return Number.isFinite(sum) && Math.abs(Math.sqrt(sum) - 1) < 1e-3;
}
