import { composioConfig, embedderConfig, type ComposioConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { StewardError } from '../errors.ts';
import { createEmbedder } from '../evidence/embedders/create-embedder.ts';
import { EVIDENCE_REINDEX_TOOL, evidenceReindexHandler } from '../evidence/reindex-handler.ts';
import { CATALOG_DRIFT_TOOL, CATALOG_REFRESH_TOOL, catalogSystemHandlers, ComposioClient, enqueueCatalogRefresh } from '../integrations/composio/index.ts';
import type { ConnectedAccount } from '../services/connected-account-service.ts';
import { ExecutionError, type Executor } from '../worker/executor.ts';
import { ComposioExecutor } from '../worker/executors/composio-executor.ts';
import { RoutingExecutor, type SystemHandler } from '../worker/executors/routing-executor.ts';
import { SandboxExecutor } from '../worker/executors/sandbox-executor.ts';

// How the CLI reaches Composio: one client from the environment, the worker's executor
// (Composio with a key, the sandbox without), and the system envelopes' handlers.

export function composioClient(config: ComposioConfig): ComposioClient {
  return new ComposioClient({ baseUrl: config.baseUrl, apiKey: config.apiKey });
}

/** The client, or a config error naming COMPOSIO_API_KEY for the commands that cannot work without it. */
export function requireComposio(env: Record<string, string | undefined> = process.env): ComposioClient {
  const config = composioConfig(env);
  if (!config) {
    throw new StewardError('config_invalid', 'COMPOSIO_API_KEY is not set: this command talks to Composio (set COMPOSIO_BASE_URL too for a proxy or `steward dev fake-composio`)', { field: 'COMPOSIO_API_KEY' });
  }
  return composioClient(config);
}

export interface WorkerExecutor {
  executor: Executor;
  /** For banners: `composio (<base url>)` or `sandbox (no COMPOSIO_API_KEY)`. */
  description: string;
}

/**
 * The worker's executor: Composio when COMPOSIO_API_KEY is set, else the sandbox (the demo
 * tools). Either way `steward.*` system envelopes go to their handlers; without a key the
 * catalog ones are answered as skipped, with the reason.
 */
export function createWorkerExecutor(db: Database, env: Record<string, string | undefined> = process.env): WorkerExecutor {
  const config = composioConfig(env);
  const handlers: Record<string, SystemHandler> = { [EVIDENCE_REINDEX_TOOL]: lazyReindexHandler(db, env) };
  if (!config) {
    // The scheduler queues catalog work whatever runs the worker; with no Composio there
    // is no catalog to sync, which is an answer (recorded on the envelope), not a failure
    // for the DLQ.
    const skip: SystemHandler = () => Promise.resolve({ result: { skipped: 'COMPOSIO_API_KEY is not set: the sandbox executor has no Composio catalog to sync' } });
    Object.assign(handlers, { [CATALOG_REFRESH_TOOL]: skip, [CATALOG_DRIFT_TOOL]: skip });
    return { executor: new RoutingExecutor(new SandboxExecutor(), handlers), description: 'sandbox (no COMPOSIO_API_KEY)' };
  }
  const client = composioClient(config);
  Object.assign(handlers, catalogSystemHandlers({ db, client }));
  return { executor: new RoutingExecutor(new ComposioExecutor({ db, client }), handlers), description: `composio (${config.baseUrl})` };
}

/**
 * The nightly re-index (steward.evidence.reindex), with the embedder built on its first
 * envelope: loading a model costs time and memory a worker that never re-indexes should
 * not pay, and a bad STEWARD_EMBEDDER setting then fails those envelopes, not the worker.
 */
function lazyReindexHandler(db: Database, env: Record<string, string | undefined>): SystemHandler {
  let handler: SystemHandler | undefined;
  return (envelope, context) => {
    try {
      handler ??= evidenceReindexHandler(db, createEmbedder(embedderConfig(env)));
    } catch (error) {
      // A configuration error will not heal by retrying: dead-letter it with the reason.
      return Promise.reject(new ExecutionError('permanent', `evidence re-index: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
    return handler(envelope, context);
  };
}

/** The seed's "Immediate Triggers": an account that became active gets its toolkit's catalog refreshed. */
export function refreshCatalogOnActivation(db: Database): (account: ConnectedAccount) => Promise<void> {
  return async (account) => {
    await enqueueCatalogRefresh(db, account.tenant_id, account.provider);
  };
}
