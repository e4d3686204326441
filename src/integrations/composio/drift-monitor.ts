// The drift monitor: compares what Composio lists now with the tenant's stored catalog,
// tool by tool (src/domain/catalog-drift.ts), and records the result in one call to
// steward.record_catalog_changes: the catalog entries, one catalog_audit row per added,
// changed or removed tool (with the schema's structured diff), and pending envelopes of
// tools that changed in a breaking way held for approval. Every catalog sync runs
// through here, page by page, so the catalog never changes without its drift being
// recorded; the run's single audit_log entry is written when the run finishes
// (steward.finish_catalog_sync).
//
// The snapshots are the catalog_audit rows, grouped by run_id, readable by their tenant
// under RLS (listCatalogDrift with tenant access).
import { z } from 'zod';
import { compareTool, removedTool, type CurrentTool, type ToolChange, type ToolDiff } from '../../domain/catalog-drift.ts';
import type { Transaction } from '../../db/types.ts';
import type { Access } from '../../services/access.ts';
import { limit, parseInput, timestamp, toolSlug, uuid } from '../../services/validation.ts';
import { loadCurrentTools, loadUnlistedTools, recordCatalogChanges, type CatalogEntryRow } from './catalog-queries.ts';
import { ZERO_COUNTS, type SyncCounts } from './sync-checkpoint-queries.ts';

export interface DriftContext {
  tenantId: string;
  toolkit: string;
  runId: string;
  /** The toolkit's first import: added tools get no catalog_audit rows (they are not drift). */
  baseline: boolean;
  /** audit_log actor_id of the rows written. */
  actor: string;
  now: Date;
}

/**
 * Compares one page of listed tools with the catalog and records the differences; on
 * the run's last page, `listedInRun` (every slug the run listed) also records the
 * toolkit's stored tools that were not listed as removed. One call to the database
 * function, so envelopes are held (outbox rows locked) before any audit row is written:
 * the lock order of 005 (outbox rows before the tenant's audit chain), which a claim
 * running at the same time also follows.
 */
export async function reconcileTools(tx: Transaction, ctx: DriftContext, tools: readonly CurrentTool[], listedInRun?: readonly string[]): Promise<SyncCounts> {
  const stored = await loadCurrentTools(tx, ctx.tenantId, tools.map((t) => t.slug));
  const counts = { ...ZERO_COUNTS };
  const entries: CatalogEntryRow[] = [];
  const changes: ToolChange[] = [];
  for (const tool of tools) {
    const before = stored.get(tool.slug);
    const comparison = compareTool(before, tool);
    counts[comparison.outcome] += 1;
    if (comparison.outcome === 'unchanged') continue;
    entries.push({
      tool_slug: tool.slug, version: tool.version, display_name: tool.displayName, description: tool.description,
      schema: tool.schema, required_scopes: tool.requiredScopes, derived_risk: tool.derivedRisk,
      make_current: before !== undefined && before.version !== tool.version,
    });
    if (comparison.outcome === 'version_only') continue;
    if (ctx.baseline && comparison.change.change === 'added') continue;
    changes.push(comparison.change);
  }
  if (listedInRun !== undefined) {
    const gone = await loadUnlistedTools(tx, ctx.tenantId, ctx.toolkit, listedInRun);
    counts.removed += gone.length;
    changes.push(...gone.map(removedTool));
  }
  if (entries.length === 0 && changes.length === 0) return counts;
  const recorded = await recordCatalogChanges(tx, { ...ctx, entries, changes });
  return { ...counts, breaking: changes.filter((c) => c.breaking).length, flagged: recorded.flagged };
}

// ── reading the snapshots ────────────────────────────────────────────────────────────

/** A catalog_audit row. */
export interface CatalogDriftEntry {
  id: number;
  tenant_id: string;
  run_id: string | null;
  tool_slug: string;
  change: 'added' | 'removed' | 'changed';
  from_version: string | null;
  to_version: string | null;
  breaking: boolean;
  diff: ToolDiff;
  detected_at: Date;
}

export const listDriftInput = z.strictObject({
  tenant_id: uuid.optional(),
  tool_slug: toolSlug.optional(),
  run_id: uuid.optional(),
  breaking: z.boolean().optional(),
  /** Inclusive lower bound on detected_at. */
  since: timestamp.optional(),
  limit,
});
export type ListDriftInput = z.input<typeof listDriftInput>;

/** Drift rows, newest first; with tenant access RLS shows the tenant its own only. */
export async function listCatalogDrift(access: Access, filter: ListDriftInput = {}): Promise<CatalogDriftEntry[]> {
  const f = parseInput(listDriftInput, filter);
  return access.run(async (tx) => (await tx.query<CatalogDriftEntry>(
    `select id, tenant_id, run_id, tool_slug, change, from_version, to_version, breaking, diff, detected_at
       from catalog_audit
      where ($1::uuid is null or tenant_id = $1) and ($2::text is null or tool_slug = $2)
        and ($3::uuid is null or run_id = $3) and ($4::boolean is null or breaking = $4)
        and ($5::timestamptz is null or detected_at >= $5)
      order by detected_at desc, id desc limit $6`,
    [f.tenant_id ?? null, f.tool_slug ?? null, f.run_id ?? null, f.breaking ?? null, f.since ?? null, f.limit],
  )).rows);
}
