// The Composio executor's one read: what it needs to run an envelope, in one round trip.
import type { Transaction } from '../../db/types.ts';
import type { ConnectedAccountStatus } from '../../services/connected-account-service.ts';

export interface ComposioExecutionContext {
  /** The tenant's current catalog entry for the tool; null when the tool is not in its catalog. */
  tool: { version: string; schema: Record<string, unknown>; updatedAt: Date; removedAt: Date | null } | null;
  /** The tenant's connected account the envelope names; null when it names none of them. */
  account: { id: string; status: ConnectedAccountStatus; composioId: string | null } | null;
}

interface Row {
  version: string | null;
  schema: Record<string, unknown> | null;
  catalog_updated_at: Date | null;
  removed_at: Date | null;
  account_id: string | null;
  account_status: ConnectedAccountStatus | null;
  composio_id: string | null;
}

// The current entry is the one the catalog service, enqueue and the guardrail context
// call current: the most recently updated version. An envelope names its account by
// Composio id (metadata.composio_id) or by Steward's id, as in the guardrail context;
// always within the envelope's own tenant, so an envelope can never borrow another
// tenant's account.
const LOAD = `
  select c.version, c.schema, c.updated_at as catalog_updated_at, c.removed_at,
         a.id as account_id, a.status as account_status, a.metadata ->> 'composio_id' as composio_id
    from (select 1) as one
    left join lateral (
      select t.version, t.schema, t.updated_at, t.removed_at from tool_catalog t
       where t.tenant_id = $1 and t.tool_slug = $2
       order by t.updated_at desc, t.id desc limit 1) c on true
    left join lateral (
      select x.id, x.status, x.metadata from connected_accounts x
       where x.tenant_id = $1 and $3::text is not null
         and (x.metadata ->> 'composio_id' = $3 or x.id::text = $3)
       order by (x.metadata ->> 'composio_id' = $3) desc nulls last, x.id limit 1) a on true`;

export async function loadComposioExecutionContext(
  tx: Transaction, tenantId: string, toolSlug: string, connectedAccountId: string | null,
): Promise<ComposioExecutionContext> {
  const row = (await tx.query<Row>(LOAD, [tenantId, toolSlug, connectedAccountId])).rows[0]!;
  return {
    tool: row.version === null ? null : { version: row.version, schema: row.schema ?? {}, updatedAt: row.catalog_updated_at!, removedAt: row.removed_at },
    account: row.account_id === null ? null : { id: row.account_id, status: row.account_status!, composioId: row.composio_id },
  };
}
