// The drift monitor's statements against tool_catalog and catalog_audit, one named
// function each. They run in the caller's transaction.
import type { StoredTool, ToolChange } from '../../domain/catalog-drift.ts';
import type { Transaction } from '../../db/types.ts';
import type { RiskTier } from '../../services/validation.ts';

interface StoredRow {
  slug: string;
  version: string;
  display_name: string | null;
  description: string | null;
  schema: Record<string, unknown>;
  required_scopes: string[];
  derived_risk: RiskTier | null;
  removed: boolean;
}

const toStored = (r: StoredRow): StoredTool => ({
  slug: r.slug, version: r.version, displayName: r.display_name, description: r.description, schema: r.schema,
  requiredScopes: r.required_scopes, derivedRisk: r.derived_risk, removed: r.removed,
});

// "Current" is what the rest of Steward calls current (enqueue's risk, the worker's
// scopes, CatalogService.get): the most recently updated version of the slug.
const CURRENT_BY_SLUG = `
  select distinct on (tool_slug) tool_slug as slug, version, display_name, description, schema, required_scopes,
         derived_risk, removed_at is not null as removed
    from tool_catalog
   where tenant_id = $1 and tool_slug = any($2::text[])
   order by tool_slug, updated_at desc, id desc`;

/** The current entry of each of these slugs that the tenant's catalog has. */
export async function loadCurrentTools(tx: Transaction, tenantId: string, slugs: readonly string[]): Promise<Map<string, StoredTool>> {
  if (slugs.length === 0) return new Map();
  const res = await tx.query<StoredRow>(CURRENT_BY_SLUG, [tenantId, slugs]);
  return new Map(res.rows.map((r) => [r.slug, toStored(r)]));
}

const UNLISTED = `
  select c.slug, c.version from (
    select distinct on (tool_slug) tool_slug as slug, version, removed_at
      from tool_catalog
     where tenant_id = $1 and toolkit = $2 and not (tool_slug = any($3::text[]))
     order by tool_slug, updated_at desc, id desc
  ) c
   where c.removed_at is null
   order by c.slug`;

/** The toolkit's tools in the catalog, not marked removed, whose slugs are not in `listed`. */
export async function loadUnlistedTools(tx: Transaction, tenantId: string, toolkit: string, listed: readonly string[]): Promise<{ slug: string; version: string }[]> {
  return (await tx.query<{ slug: string; version: string }>(UNLISTED, [tenantId, toolkit, listed])).rows;
}

/** An entry to upsert (steward.record_catalog_changes' p_entries). */
export interface CatalogEntryRow {
  tool_slug: string;
  version: string;
  display_name: string | null;
  description: string | null;
  schema: Record<string, unknown>;
  required_scopes: string[];
  derived_risk: RiskTier;
  make_current: boolean;
}

export interface RecordCatalogChangesInput {
  tenantId: string;
  toolkit: string;
  runId: string;
  entries: readonly CatalogEntryRow[];
  changes: readonly ToolChange[];
  actor: string;
  now: Date;
}

export interface RecordedChanges {
  upserted: number;
  audited: number;
  flagged: number;
}

/** Upserts, catalog_audit rows and held envelopes, in one call (007_composio_catalog). */
export async function recordCatalogChanges(tx: Transaction, input: RecordCatalogChangesInput): Promise<RecordedChanges> {
  const changes = input.changes.map((c) => ({
    tool_slug: c.slug, change: c.change, from_version: c.fromVersion, to_version: c.toVersion, breaking: c.breaking, diff: c.diff,
  }));
  const res = await tx.query<RecordedChanges>(
    'select upserted, audited, flagged from steward.record_catalog_changes($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7)',
    [input.tenantId, input.toolkit, input.runId, JSON.stringify(input.entries), JSON.stringify(changes), input.actor, input.now],
  );
  return res.rows[0]!;
}

// Accounts that were linked once: an expired or disabled account is still the tenant's
// toolkit (it will be re-authorised), one never authorised or revoked is not.
const LINKED = `status in ('active', 'expired', 'inactive')`;

/** Tenants with at least one linked account, in id order. */
export async function listTenantsWithAccounts(tx: Transaction): Promise<string[]> {
  const res = await tx.query<{ tenant_id: string }>(`select distinct tenant_id from connected_accounts where ${LINKED} order by tenant_id`);
  return res.rows.map((r) => r.tenant_id);
}

/** The toolkits of a tenant's linked accounts (connected_accounts.provider, lower-cased), sorted. */
export async function listTenantToolkits(tx: Transaction, tenantId: string): Promise<string[]> {
  const res = await tx.query<{ toolkit: string }>(
    `select distinct lower(btrim(provider)) as toolkit from connected_accounts
      where tenant_id = $1 and ${LINKED} and btrim(provider) <> '' order by 1`,
    [tenantId],
  );
  return res.rows.map((r) => r.toolkit);
}
