// Catalog sync: for each tenant, the toolkits of its linked accounts → its tool_catalog.
//
// - Paginated: GET /tools per toolkit, `limit` per page, following Composio's cursor.
// - Rate-limit aware: a retryable failure (429, 5xx, timeout) is retried in place up to
//   `retry.maxAttempts`, after the provider's Retry-After when it sent one, else after
//   exponential backoff with full jitter (src/domain/retry-policy.ts). A Retry-After
//   beyond `retry.maxRetryAfterMs` ends the run instead: the checkpoint keeps its place.
// - Resumable: each page is applied in one transaction together with its checkpoint
//   (steward.catalog_sync_checkpoints: run, next cursor, slugs seen), so a process that
//   dies anywhere resumes at the first page not yet applied; a page is never applied twice.
// - Idempotent: entries are written only where something differs, drift rows only for
//   real changes (drift-monitor.ts); a second sync changes no row and writes no audit row.
// - Safe to run twice at once: a page is applied only under the checkpoint's row lock and
//   only if the checkpoint still points where that page was fetched from; the loser
//   adopts the winner's position.
// - Progress: `onProgress` receives an event per toolkit started, page applied, retry and
//   toolkit finished or failed. An exception it throws stops the sync (like a crash).
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import type { Transaction } from '../../db/types.ts';
import { nextAttempt, type RetryPolicy } from '../../domain/retry-policy.ts';
import type { CurrentTool } from '../../domain/catalog-drift.ts';
import { parseInput, uuid } from '../../services/validation.ts';
import { toCatalogEntry } from './catalog-entry.ts';
import { listTenantsWithAccounts, listTenantToolkits } from './catalog-queries.ts';
import type { ComposioClient } from './client.ts';
import { reconcileTools, type DriftContext } from './drift-monitor.ts';
import { ComposioError } from './errors.ts';
import type { Page, Tool } from './schemas.ts';
import {
  addCounts, advanceCheckpoint, beginRun, finishRun, lockCheckpoint, restartRun, type Checkpoint, type SyncCounts,
} from './sync-checkpoint-queries.ts';

export interface SyncRetryPolicy extends RetryPolicy {
  /** The longest Retry-After waited in place; a longer one ends the run (resumable later). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_SYNC_RETRY: SyncRetryPolicy = Object.freeze({ maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 300_000 });
export const DEFAULT_PAGE_SIZE = 100;

export interface CatalogSyncOptions {
  db: Database;
  client: ComposioClient;
  /** Only these tenants; default: every tenant with a linked account. */
  tenantIds?: readonly string[];
  /** Only these of each tenant's toolkits. */
  toolkits?: readonly string[];
  /** Tools per request, 1–1000; default 100. */
  pageSize?: number;
  retry?: Partial<SyncRetryPolicy>;
  onProgress?: (event: CatalogSyncProgress) => void;
  /** Stops the sync between pages and aborts the request in flight; the checkpoint keeps its place. */
  signal?: AbortSignal;
  /** Awaited before every request to Composio; throwing stops the sync (the trickle refresh's token bucket). */
  beforeRequest?: () => Promise<void>;
  /** audit_log actor_id; default `catalog-sync`. */
  actor?: string;
  clock?: () => Date;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ToolkitSyncSummary extends SyncCounts {
  tenantId: string;
  toolkit: string;
  runId: string;
  /** The run continued one left unfinished. */
  resumed: boolean;
  baseline: boolean;
  pages: number;
  /** Distinct tools listed in the run. */
  tools: number;
}

export interface ToolkitSyncFailure {
  tenantId: string;
  toolkit: string;
  error: Error;
}

export interface CatalogSyncReport {
  toolkits: ToolkitSyncSummary[];
  failures: ToolkitSyncFailure[];
}

export type CatalogSyncProgress =
  | { type: 'toolkit_started'; tenantId: string; toolkit: string; runId: string; resumed: boolean; pagesDone: number }
  | { type: 'page_synced'; tenantId: string; toolkit: string; page: number; tools: number; totalItems: number | undefined; counts: SyncCounts }
  | { type: 'retrying'; tenantId: string; toolkit: string; attempt: number; waitMs: number; status: number | undefined; reason: string }
  | { type: 'restarted'; tenantId: string; toolkit: string; reason: string }
  | { type: 'tool_skipped'; tenantId: string; toolkit: string; slug: string; field: string; reason: string }
  | { type: 'toolkit_finished'; summary: ToolkitSyncSummary }
  | { type: 'toolkit_failed'; tenantId: string; toolkit: string; error: Error };

const toolkitSlug = z.string().trim().toLowerCase().min(1).max(100).regex(/^[a-z0-9_-]+$/, 'must be a Composio toolkit slug');
const syncInput = z.strictObject({
  tenantIds: z.array(uuid).optional(),
  toolkits: z.array(toolkitSlug).optional(),
  pageSize: z.number().int().min(1).max(1000).default(DEFAULT_PAGE_SIZE),
  retry: z.strictObject({
    maxAttempts: z.number().int().min(1), baseDelayMs: z.number().int().min(0), maxDelayMs: z.number().int().min(0),
    maxRetryAfterMs: z.number().int().min(0),
  }).partial().default({}),
  actor: z.string().trim().min(1).max(200).default('catalog-sync'),
});

interface Run {
  db: Database;
  client: ComposioClient;
  pageSize: number;
  retry: SyncRetryPolicy;
  actor: string;
  onProgress: (event: CatalogSyncProgress) => void;
  signal: AbortSignal | undefined;
  beforeRequest: (() => Promise<void>) | undefined;
  clock: () => Date;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function prepare(options: CatalogSyncOptions): Run & { tenantIds: string[] | undefined; toolkits: string[] | undefined } {
  const input = parseInput(syncInput, {
    tenantIds: options.tenantIds, toolkits: options.toolkits, pageSize: options.pageSize, retry: options.retry, actor: options.actor,
  });
  return {
    db: options.db, client: options.client, pageSize: input.pageSize, actor: input.actor,
    retry: { ...DEFAULT_SYNC_RETRY, ...definedOnly(input.retry) },
    onProgress: options.onProgress ?? (() => undefined), signal: options.signal, beforeRequest: options.beforeRequest,
    clock: options.clock ?? (() => new Date()), random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    tenantIds: input.tenantIds, toolkits: input.toolkits,
  };
}

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Syncs every toolkit of every tenant (or those named). A toolkit that fails is reported
 * and the others go on; an auth failure (Steward's own Composio key), an abort, or an
 * exception from onProgress stops the whole sync.
 */
export async function syncCatalog(options: CatalogSyncOptions): Promise<CatalogSyncReport> {
  const run = prepare(options);
  const report: CatalogSyncReport = { toolkits: [], failures: [] };
  const tenants = run.tenantIds ?? await run.db.asService(listTenantsWithAccounts);
  for (const tenantId of tenants) {
    const linked = await run.db.asService((tx) => listTenantToolkits(tx, tenantId));
    const toolkits = run.toolkits ? linked.filter((t) => run.toolkits!.includes(t)) : linked;
    for (const toolkit of toolkits) {
      try {
        report.toolkits.push(await syncOne(run, tenantId, toolkit));
      } catch (error) {
        if (!isToolkitFailure(error, run.signal)) throw error;
        run.onProgress({ type: 'toolkit_failed', tenantId, toolkit, error });
        report.failures.push({ tenantId, toolkit, error });
      }
    }
  }
  return report;
}

/** Syncs one toolkit of one tenant, linked account or not (the trickle refresh's unit). */
export async function syncToolkit(options: CatalogSyncOptions, tenantId: string, toolkit: string): Promise<ToolkitSyncSummary> {
  const run = prepare(options);
  return syncOne(run, parseInput(uuid, tenantId, 'tenantId'), parseInput(toolkitSlug, toolkit, 'toolkit'));
}

/** A Composio failure that concerns this toolkit only: the sync goes on with the next. */
function isToolkitFailure(error: unknown, signal: AbortSignal | undefined): error is Error {
  if (signal?.aborted) return false;
  return error instanceof ComposioError && error.kind !== 'auth' && error.failure !== 'aborted';
}

async function syncOne(run: Run, tenantId: string, toolkit: string): Promise<ToolkitSyncSummary> {
  const begun = await run.db.asService((tx) => beginRun(tx, tenantId, toolkit, run.clock()));
  let checkpoint = begun.checkpoint;
  let restarted = false;
  run.onProgress({ type: 'toolkit_started', tenantId, toolkit, runId: checkpoint.run_id, resumed: begun.resumed, pagesDone: checkpoint.pages });
  // Cursors this process followed in the run: one coming back would loop forever.
  const followed = new Set<string>();

  while (checkpoint.completed_at === null) {
    run.signal?.throwIfAborted();
    let page: Page<Tool>;
    try {
      page = await fetchPage(run, tenantId, toolkit, checkpoint.cursor);
    } catch (error) {
      // A cursor saved by an earlier process may have expired: start the run over, once.
      if (checkpoint.cursor !== null && !restarted && isRefusedCursor(error)) {
        restarted = true;
        run.onProgress({ type: 'restarted', tenantId, toolkit, reason: (error as Error).message });
        checkpoint = await run.db.asService((tx) => restartRun(tx, tenantId, toolkit, run.clock()));
        continue;
      }
      throw error;
    }
    const next = page.next_cursor;
    if (next !== null && (next === checkpoint.cursor || followed.has(next))) {
      throw new ComposioError('permanent', 'Composio GET /tools: next_cursor repeats a cursor already followed', {
        operation: 'GET /tools', failure: 'invalid_response', path: 'next_cursor',
      });
    }
    if (next !== null) followed.add(next);
    const from = checkpoint;
    const applied = await run.db.asService((tx) => applyPage(run, tx, from, page));
    checkpoint = applied.checkpoint;
    if (applied.applied) {
      run.onProgress({
        type: 'page_synced', tenantId, toolkit, page: checkpoint.pages, tools: checkpoint.seen.length,
        totalItems: page.total_items, counts: checkpoint.counts,
      });
    }
  }
  const summary: ToolkitSyncSummary = {
    tenantId, toolkit, runId: checkpoint.run_id, resumed: begun.resumed, baseline: checkpoint.baseline,
    pages: checkpoint.pages, tools: new Set(checkpoint.seen).size, ...checkpoint.counts,
  };
  run.onProgress({ type: 'toolkit_finished', summary });
  return summary;
}

/**
 * Applies a page fetched at `from`'s cursor, and on the last page the removals and the
 * run's completion, all in the caller's transaction. When another process moved the
 * checkpoint meanwhile, nothing is applied and its current state is returned.
 */
async function applyPage(run: Run, tx: Transaction, from: Checkpoint, page: Page<Tool>): Promise<{ applied: boolean; checkpoint: Checkpoint }> {
  const { tenant_id: tenantId, toolkit } = from;
  const current = await lockCheckpoint(tx, tenantId, toolkit);
  if (!current) throw new Error(`the catalog sync checkpoint of ${toolkit} for tenant ${tenantId} disappeared`);
  if (current.run_id !== from.run_id || current.pages !== from.pages || current.completed_at !== null) {
    return { applied: false, checkpoint: current };
  }
  const now = run.clock();
  const ctx: DriftContext = { tenantId, toolkit, runId: current.run_id, baseline: current.baseline, actor: run.actor, now };
  const tools = listedTools(run, tenantId, toolkit, page.items);
  const listed = tools.map((t) => t.slug);
  const last = page.next_cursor === null;
  let counts = addCounts(current.counts, { skipped: page.items.length - tools.length });
  counts = addCounts(counts, await reconcileTools(tx, ctx, tools, last ? [...current.seen, ...listed] : undefined));
  const checkpoint = await advanceCheckpoint(tx, current, { cursor: page.next_cursor, listed, counts, now });
  if (!last) return { applied: true, checkpoint };
  await finishRun(tx, tenantId, toolkit, run.actor, now);
  return { applied: true, checkpoint: { ...checkpoint, cursor: null, completed_at: now } };
}

/** The page's tools of this toolkit that the catalog can hold, each slug once. */
function listedTools(run: Run, tenantId: string, toolkit: string, items: readonly Tool[]): CurrentTool[] {
  const tools = new Map<string, CurrentTool>();
  for (const item of items) {
    if (item.toolkit.slug.toLowerCase() !== toolkit) {
      run.onProgress({ type: 'tool_skipped', tenantId, toolkit, slug: item.slug, field: 'toolkit.slug', reason: `belongs to toolkit ${item.toolkit.slug}` });
      continue;
    }
    const entry = toCatalogEntry(item, toolkit);
    if (!entry.ok) {
      run.onProgress({ type: 'tool_skipped', tenantId, toolkit, slug: entry.slug, field: entry.field, reason: entry.reason });
      continue;
    }
    if (!tools.has(entry.tool.slug)) tools.set(entry.tool.slug, entry.tool);
  }
  return [...tools.values()];
}

/** One page of the toolkit's current tools, retrying retryable failures in place. */
async function fetchPage(run: Run, tenantId: string, toolkit: string, cursor: string | null): Promise<Page<Tool>> {
  for (let attempt = 1; ; attempt++) {
    await run.beforeRequest?.();
    try {
      return await run.client.listTools(
        { toolkitSlug: toolkit, limit: run.pageSize, toolkitVersions: 'latest', ...(cursor === null ? {} : { cursor }) },
        run.signal ? { signal: run.signal } : undefined,
      );
    } catch (error) {
      if (!(error instanceof ComposioError) || error.kind !== 'retryable' || error.failure === 'aborted') throw error;
      const decision = nextAttempt({ attempts: attempt, policy: run.retry, retryAfterMs: error.retryAfterMs, random: run.random });
      if (decision.kind === 'exhausted' || decision.delayMs > run.retry.maxRetryAfterMs) throw error;
      run.onProgress({ type: 'retrying', tenantId, toolkit, attempt, waitMs: decision.delayMs, status: error.status, reason: error.message });
      await run.sleep(decision.delayMs, run.signal);
    }
  }
}

/** The provider refused the cursor itself (400/404/410/422), as for an expired one. */
function isRefusedCursor(error: unknown): boolean {
  return error instanceof ComposioError && error.kind === 'permanent' && error.failure === 'http'
    && error.status !== undefined && [400, 404, 410, 422].includes(error.status);
}
