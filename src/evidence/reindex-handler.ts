import type { Database } from '../db/database.ts';
import type { SystemHandler } from '../worker/executors/routing-executor.ts';
import type { Embedder } from './embedders/embedder.ts';
import { reindexEvidence } from './reindex.ts';

/** The system tool that asks the worker to run the re-indexer (see evidenceReindexHandler). */
export const EVIDENCE_REINDEX_TOOL = 'steward.evidence.reindex';

/**
 * The worker's handler for `steward.evidence.reindex` envelopes ({limit?, batch_size?}),
 * for RoutingExecutor: re-indexing then gets the outbox's leases, retries and audit. The
 * result (stored on the envelope) is the run's report.
 */
export function evidenceReindexHandler(db: Database, embedder: Embedder): SystemHandler {
  return async (envelope, context) => {
    const args = envelope.arguments;
    // One envelope re-indexes its own tenant (the nightly job queues one per tenant).
    const report = await reindexEvidence(db, embedder, {
      signal: context.signal, tenantId: envelope.tenant_id,
      ...(typeof args.limit === 'number' ? { limit: args.limit } : {}),
      ...(typeof args.batch_size === 'number' ? { batchSize: args.batch_size } : {}),
    });
    return { result: report };
  };
}
