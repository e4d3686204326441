// Trickle refresh: one unit of work refreshes one toolkit of one tenant's catalog (a sync
// of that toolkit, drift recorded as always), drawing one token per Composio request from
// the tenant's rate bucket. It runs as a system envelope (`steward.catalog.refresh`,
// arguments {toolkit}) through the outbox, so it gets the worker's leases, retries, DLQ
// and audit: an empty bucket or a 429 is a retryable failure whose retryAfterMs the
// worker honours, and the next attempt resumes at the page where this one stopped (the
// sync's checkpoint). The scheduler decides when to call enqueueCatalogRefresh.
//
// `steward.catalog.drift` (arguments {} or {toolkits}) is the drift monitor's whole-tenant
// check: it fans out into one refresh per toolkit of the tenant's linked accounts, each
// its own unit within the bucket, so a retry never repeats toolkits already done.
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import type { Transaction } from '../../db/types.ts';
import { StewardError } from '../../errors.ts';
import { serviceAccess } from '../../services/access.ts';
import { takeTokens, type BucketConfig } from '../../services/token-bucket.ts';
import { parseInput, uuid } from '../../services/validation.ts';
import { ExecutionError } from '../../worker/executor.ts';
import type { SystemHandler } from '../../worker/executors/routing-executor.ts';
import { listTenantToolkits } from './catalog-queries.ts';
import { syncToolkit, type CatalogSyncProgress, type ToolkitSyncSummary } from './catalog-sync.ts';
import type { ComposioClient } from './client.ts';
import { ComposioError } from './errors.ts';

export const CATALOG_REFRESH_TOOL = 'steward.catalog.refresh';
export const CATALOG_DRIFT_TOOL = 'steward.catalog.drift';

/**
 * Per tenant: up to 20 requests in a burst, then one every 5 s. Composio's own limit is
 * per project (20 000 or 100 000 requests per 10 minutes, shared by every endpoint and
 * every tenant), so a refresh must leave most of it to the actions themselves.
 */
export const DEFAULT_REFRESH_BUCKET: Readonly<BucketConfig> = Object.freeze({ bucket: 'composio.catalog', capacity: 20, refillPerSecond: 0.2 });

const toolkitArg = z.string().trim().toLowerCase().min(1).max(100).regex(/^[a-z0-9_-]+$/, 'must be a Composio toolkit slug');
const refreshArguments = z.strictObject({ toolkit: toolkitArg });
const driftArguments = z.strictObject({ toolkits: z.array(toolkitArg).optional() });

export interface EnqueuedRefresh {
  /** The envelope's id. */
  id: string;
  /** false: a refresh of this toolkit was already pending, and is the one returned. */
  created: boolean;
  status: string;
  next_run_at: Date;
}

/** Queues a refresh of `toolkit` for `tenantId` (once: a pending one is reused). */
export async function enqueueCatalogRefresh(db: Database, tenantId: string, toolkit: string, options: { runAt?: Date } = {}): Promise<EnqueuedRefresh> {
  const tenant = parseInput(uuid, tenantId, 'tenant_id');
  const args = parseInput(refreshArguments, { toolkit });
  return db.asService((tx) => enqueueRefresh(tx, tenant, args.toolkit, options.runAt ?? null));
}

async function enqueueRefresh(tx: Transaction, tenantId: string, toolkit: string, runAt: Date | null): Promise<EnqueuedRefresh> {
  return (await tx.query<EnqueuedRefresh>(
    'select id, created, status, next_run_at from steward.enqueue_system_envelope($1, $2, $3::jsonb, $4)',
    [tenantId, CATALOG_REFRESH_TOOL, JSON.stringify({ toolkit }), runAt],
  )).rows[0]!;
}

export interface CatalogRefreshOptions {
  db: Database;
  client: ComposioClient;
  bucket?: BucketConfig;
  /** Tools per request; default the sync's (100). */
  pageSize?: number;
  clock?: () => Date;
  onProgress?: (event: CatalogSyncProgress) => void;
}

/** What a refresh stores in its envelope's `result`. */
export type CatalogRefreshResult = Omit<ToolkitSyncSummary, 'tenantId'> | { toolkit: string; skipped: string };

/** What a drift check stores in its envelope's `result`. */
export interface CatalogDriftResult {
  /** The toolkits whose refresh it asked for. */
  toolkits: string[];
  /** Refreshes queued now; the others were already pending. */
  enqueued: number;
}

class BucketEmpty extends Error {
  readonly waitMs: number;
  constructor(bucket: string, waitMs: number) {
    super(`rate bucket ${bucket} is empty; the next token is due in ${waitMs} ms`);
    this.waitMs = waitMs;
  }
}

/** The handler of `steward.catalog.refresh`, for the RoutingExecutor. */
export function createCatalogRefreshHandler(options: CatalogRefreshOptions): SystemHandler {
  const bucket = options.bucket ?? DEFAULT_REFRESH_BUCKET;
  const clock = options.clock ?? (() => new Date());
  const tokens = serviceAccess(options.db);

  return async (envelope, context) => {
    const parsed = refreshArguments.safeParse(envelope.arguments);
    if (!parsed.success) throw argumentsError(parsed.error);
    const { toolkit } = parsed.data;
    const tenantId = envelope.tenant_id;
    // The account may have been revoked since the refresh was queued: nothing to refresh.
    const linked = await options.db.asService((tx) => listTenantToolkits(tx, tenantId));
    if (!linked.includes(toolkit)) return { result: { toolkit, skipped: 'the tenant has no linked account for this toolkit' } };

    try {
      const { tenantId: _, ...summary } = await syncToolkit({
        db: options.db, client: options.client, clock, signal: context.signal, actor: 'catalog-refresh',
        // No waiting in place: the worker owns retry timing, and the checkpoint keeps the place.
        retry: { maxAttempts: 1 },
        ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        beforeRequest: async () => {
          const taken = await takeTokens(tokens, { ...bucket, tenantId, n: 1, now: clock() });
          if (!taken.granted) throw new BucketEmpty(bucket.bucket, taken.waitMs);
        },
      }, tenantId, toolkit);
      return { result: summary satisfies CatalogRefreshResult };
    } catch (error) {
      throw toExecutionError(error);
    }
  };
}

/** The handler of `steward.catalog.drift`: a refresh of each of the tenant's toolkits. */
export function createCatalogDriftHandler(options: Pick<CatalogRefreshOptions, 'db'>): SystemHandler {
  return async (envelope) => {
    const parsed = driftArguments.safeParse(envelope.arguments);
    if (!parsed.success) throw argumentsError(parsed.error);
    const only = parsed.data.toolkits;
    const result = await options.db.asService(async (tx): Promise<CatalogDriftResult> => {
      const linked = await listTenantToolkits(tx, envelope.tenant_id);
      const toolkits = only === undefined ? linked : linked.filter((t) => only.includes(t));
      let enqueued = 0;
      for (const toolkit of toolkits) if ((await enqueueRefresh(tx, envelope.tenant_id, toolkit, null)).created) enqueued += 1;
      return { toolkits, enqueued };
    });
    return { result };
  };
}

/** Both catalog handlers, for `new RoutingExecutor(executor, catalogSystemHandlers(…))`. */
export function catalogSystemHandlers(options: CatalogRefreshOptions): Record<string, SystemHandler> {
  return { [CATALOG_REFRESH_TOOL]: createCatalogRefreshHandler(options), [CATALOG_DRIFT_TOOL]: createCatalogDriftHandler(options) };
}

/** Invalid system-envelope arguments: permanent, naming the field. */
function argumentsError(error: z.ZodError): ExecutionError {
  const issue = error.issues[0];
  const field = ['arguments', ...(issue?.path ?? []).map(String)].join('.');
  return new ExecutionError('permanent', `${field}: ${issue?.message ?? 'is invalid'}`, { status: 400 });
}

/** The same failure as the worker classifies it. */
function toExecutionError(error: unknown): unknown {
  if (error instanceof BucketEmpty) return new ExecutionError('retryable', error.message, { retryAfterMs: error.waitMs, cause: error });
  if (error instanceof ComposioError) {
    const kind = error.kind === 'retryable' || error.kind === 'conflict' ? 'retryable' : 'permanent';
    return new ExecutionError(kind, error.message, {
      cause: error,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
  if (error instanceof StewardError && error.code === 'invalid_input') return new ExecutionError('permanent', error.message, { cause: error });
  return error;
}
