// Shared arrangements of the catalog sync, drift and trickle refresh tests: tenants with
// linked accounts, the catalog as stored, and the catalog the fake serves, read through
// the client independently of the sync.
import type { Transaction } from '../../../src/db/types.ts';
import { deriveRisk } from '../../../src/domain/risk-rule.ts';
import type { ComposioClient } from '../../../src/integrations/composio/index.ts';
import { SqlConnectedAccountService } from '../../../src/services/connected-account-service.ts';
import { SqlTenantService } from '../../../src/services/tenant-service.ts';
import { TOOLS } from '../../fakes/composio/index.ts';
import type { BackendContext } from '../../support/backends.ts';

let seq = 0;

/** A new tenant with an account per entry: `gmail` (active) or `hubspot:expired`. */
export async function tenantWithAccounts(ctx: BackendContext, accounts: readonly string[], prefix = '50000000'): Promise<string> {
  seq += 1;
  const id = `${prefix}-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  await new SqlTenantService(ctx.service()).create({ id, name: `Catalog ${seq}` });
  const service = new SqlConnectedAccountService(ctx.service());
  for (const account of accounts) {
    const [provider, status = 'active'] = account.split(':') as [string, 'active' | 'expired' | 'pending' | 'revoked'];
    await service.create({ tenant_id: id, provider, status });
  }
  return id;
}

/** Synthetic tools per toolkit that make each listed toolkit exactly `size` tools long. */
export function padTo(size: number, toolkits: readonly string[]): Record<string, number> {
  return Object.fromEntries(toolkits.map((t) => [t, size - TOOLS.filter((tool) => tool.toolkit === t && !tool.deprecated).length]));
}

export interface CatalogRow {
  tool_slug: string;
  toolkit: string | null;
  version: string;
  display_name: string | null;
  description: string | null;
  schema: Record<string, unknown>;
  required_scopes: string[];
  derived_risk: string | null;
  risk: string | null;
  removed: boolean;
}

/** The tenant's catalog as the owner sees it, every version, by slug then version. */
export async function storedCatalog(ctx: BackendContext, tenantId: string): Promise<CatalogRow[]> {
  return ctx.test.owner.transaction(async (tx) => (await tx.query<CatalogRow>(
    `select tool_slug, toolkit, version, display_name, description, schema, required_scopes, derived_risk, risk,
            removed_at is not null as removed
       from tool_catalog where tenant_id = $1 order by tool_slug, version`, [tenantId])).rows);
}

/** (slug@version → updated_at) of a tenant's catalog: unchanged means no row was written. */
export async function catalogTimestamps(ctx: BackendContext, tenantId: string): Promise<Map<string, number>> {
  const rows = await ctx.test.owner.transaction(async (tx) => (await tx.query<{ key: string; updated_at: Date }>(
    `select tool_slug || '@' || version as key, updated_at from tool_catalog where tenant_id = $1`, [tenantId])).rows);
  return new Map(rows.map((r) => [r.key, r.updated_at.getTime()]));
}

/** What the catalog must hold for these toolkits: the fake's current tools, read through the client. */
export async function expectedCatalog(client: ComposioClient, toolkits: readonly string[]): Promise<CatalogRow[]> {
  const rows: CatalogRow[] = [];
  for (const toolkit of toolkits) {
    for await (const tool of client.iterateTools({ toolkitSlug: toolkit, limit: 1000, toolkitVersions: 'latest' })) {
      const risk = deriveRisk({ slug: tool.slug, toolkit, tags: tool.tags }).tier;
      rows.push({
        tool_slug: tool.slug, toolkit, version: tool.version, display_name: tool.name, description: tool.description,
        schema: tool.input_parameters, required_scopes: tool.scopes, derived_risk: risk, risk, removed: false,
      });
    }
  }
  return rows.sort((a, b) => (a.tool_slug < b.tool_slug ? -1 : a.tool_slug > b.tool_slug ? 1 : 0));
}

export async function count(ctx: BackendContext, sql: string, params: unknown[] = []): Promise<number> {
  return ctx.test.owner.transaction(async (tx: Transaction) => (await tx.query<{ n: number }>(`select count(*)::int as n from (${sql}) x`, params)).rows[0]!.n);
}

/** The tenant's audit_log rows of a category, oldest first. */
export async function auditRows(ctx: BackendContext, tenantId: string, category: string): Promise<{ actor_id: string; payload: Record<string, unknown> }[]> {
  return ctx.test.owner.transaction(async (tx) => (await tx.query<{ actor_id: string; payload: Record<string, unknown> }>(
    'select actor_id, payload from audit_log where tenant_id = $1 and category = $2 order by id', [tenantId, category])).rows);
}
