import type { Access } from '../services/access.ts';
import { collectEvidenceBatch, type CollectedCount } from './evidence-queries.ts';

// Ingestion of Steward's own records: proposals (envelopes with their trust context and
// outcome), tool outputs (envelope results) and audit entries become evidence rows,
// rendered and chunked by steward.collect_evidence (010_evidence_search.sql), without
// embeddings: the re-indexer embeds them later, off the worker's path. Each call writes
// only what is new or changed since the last, so it can run at any time, as often as
// wanted, concurrently with itself.

export interface CollectOptions {
  /** Sources of each type per transaction (default 500). */
  batchSize?: number;
  signal?: AbortSignal;
}

export type CollectReport = Record<string, { sources: number; chunks: number }>;

/** Collects every pending source, a batch per transaction, as the service role. */
export async function collectEvidence(access: Access, options: CollectOptions = {}): Promise<CollectReport> {
  const report: CollectReport = {};
  for (;;) {
    options.signal?.throwIfAborted();
    const counts: CollectedCount[] = await access.run((tx) => collectEvidenceBatch(tx, options.batchSize ?? 500));
    for (const c of counts) {
      const r = (report[c.source_type] ??= { sources: 0, chunks: 0 });
      r.sources += c.sources;
      r.chunks += c.chunks;
    }
    if (counts.every((c) => c.sources === 0)) return report;
  }
}
