// steward.catalog_sync_checkpoints: where the sync of one tenant's toolkit stands, so a
// crashed or interrupted sync resumes from the page where it stopped. One named function
// per statement; each runs in the caller's transaction.
import { randomUUID } from 'node:crypto';
import type { Transaction } from '../../db/types.ts';

/** A run's running totals (checkpoint.counts, and the run's audit_log entry). */
export interface SyncCounts {
  added: number;
  changed: number;
  removed: number;
  /** Changes (changed or removed) that may break a call written for the old tool. */
  breaking: number;
  /** A new version of a tool that is otherwise the same (no catalog_audit row). */
  version_only: number;
  unchanged: number;
  /** Pending envelopes held for approval because of a breaking change. */
  flagged: number;
  /** Tools the catalog cannot hold (see catalog-entry.ts). */
  skipped: number;
}

export const ZERO_COUNTS: Readonly<SyncCounts> = Object.freeze({
  added: 0, changed: 0, removed: 0, breaking: 0, version_only: 0, unchanged: 0, flagged: 0, skipped: 0,
});

export function addCounts(a: Readonly<SyncCounts>, b: Partial<SyncCounts>): SyncCounts {
  const sum = { ...a };
  for (const key of Object.keys(ZERO_COUNTS) as (keyof SyncCounts)[]) sum[key] += b[key] ?? 0;
  return sum;
}

export interface Checkpoint {
  tenant_id: string;
  toolkit: string;
  run_id: string;
  cursor: string | null;
  pages: number;
  seen: string[];
  baseline: boolean;
  counts: SyncCounts;
  started_at: Date;
  completed_at: Date | null;
}

const COLUMNS = 'tenant_id, toolkit, run_id, cursor, pages, seen, baseline, counts, started_at, completed_at';

const fromRow = (row: Checkpoint): Checkpoint => ({ ...row, counts: { ...ZERO_COUNTS, ...row.counts } });

// A finished run is replaced by a new one; an unfinished one is left alone (and resumed).
// Baseline: the toolkit has no entries in the tenant's catalog yet.
const BEGIN = `
  insert into steward.catalog_sync_checkpoints as s (tenant_id, toolkit, run_id, baseline, started_at, updated_at)
  values ($1, $2, $3, not exists (select from tool_catalog c where c.tenant_id = $1 and c.toolkit = $2), $4, $4)
  on conflict (tenant_id, toolkit) do update
     set run_id = excluded.run_id, cursor = null, pages = 0, seen = '{}', baseline = excluded.baseline,
         counts = '{}', started_at = excluded.started_at, updated_at = excluded.updated_at, completed_at = null
   where s.completed_at is not null
  returning ${COLUMNS}`;

/** Starts a run of (tenant, toolkit), or finds the unfinished one to resume (`resumed`). */
export async function beginRun(tx: Transaction, tenantId: string, toolkit: string, now: Date): Promise<{ checkpoint: Checkpoint; resumed: boolean }> {
  const started = (await tx.query<Checkpoint>(BEGIN, [tenantId, toolkit, randomUUID(), now])).rows[0];
  if (started) return { checkpoint: fromRow(started), resumed: false };
  const existing = await lockCheckpoint(tx, tenantId, toolkit);
  if (!existing) throw new Error(`catalog sync checkpoint of ${toolkit} vanished while it was being read`);
  return { checkpoint: existing, resumed: true };
}

/** The checkpoint, locked until the transaction ends: one writer per (tenant, toolkit) at a time. */
export async function lockCheckpoint(tx: Transaction, tenantId: string, toolkit: string): Promise<Checkpoint | undefined> {
  const row = (await tx.query<Checkpoint>(
    `select ${COLUMNS} from steward.catalog_sync_checkpoints where tenant_id = $1 and toolkit = $2 for update`,
    [tenantId, toolkit],
  )).rows[0];
  return row ? fromRow(row) : undefined;
}

export interface Advance {
  cursor: string | null;
  /** Slugs this page listed. */
  listed: readonly string[];
  counts: SyncCounts;
  now: Date;
}

/** Records one applied page: the next cursor, the slugs seen, the totals. */
export async function advanceCheckpoint(tx: Transaction, checkpoint: Checkpoint, advance: Advance): Promise<Checkpoint> {
  const row = (await tx.query<Checkpoint>(
    `update steward.catalog_sync_checkpoints
        set cursor = $3, pages = pages + 1, seen = seen || $4::text[], counts = $5::jsonb, updated_at = $6
      where tenant_id = $1 and toolkit = $2 and run_id = $7
      returning ${COLUMNS}`,
    [checkpoint.tenant_id, checkpoint.toolkit, advance.cursor, advance.listed, JSON.stringify(advance.counts), advance.now, checkpoint.run_id],
  )).rows[0];
  if (!row) throw new Error(`catalog sync run ${checkpoint.run_id} of ${checkpoint.toolkit} was replaced while it held the lock`);
  return fromRow(row);
}

/**
 * Starts the run over from the first page, same run id and baseline (a resumed cursor
 * the provider no longer accepts). Pages already applied stay applied; they compare as
 * unchanged when listed again.
 */
export async function restartRun(tx: Transaction, tenantId: string, toolkit: string, now: Date): Promise<Checkpoint> {
  const row = (await tx.query<Checkpoint>(
    `update steward.catalog_sync_checkpoints
        set cursor = null, pages = 0, seen = '{}', updated_at = $3
      where tenant_id = $1 and toolkit = $2 and completed_at is null
      returning ${COLUMNS}`,
    [tenantId, toolkit, now],
  )).rows[0];
  if (!row) throw new Error(`no unfinished catalog sync of ${toolkit} to restart`);
  return fromRow(row);
}

/** Completes the run; its audit_log entry is written when it changed anything. */
export async function finishRun(tx: Transaction, tenantId: string, toolkit: string, actor: string, now: Date): Promise<void> {
  await tx.query('select steward.finish_catalog_sync($1, $2, $3, $4)', [tenantId, toolkit, actor, now]);
}
