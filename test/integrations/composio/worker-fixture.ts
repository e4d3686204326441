import { randomUUID } from 'node:crypto';
import type { ComposioClient } from '../../../src/integrations/composio/index.ts';
import { SqlCatalogService } from '../../../src/services/catalog-service.ts';
import { SqlConnectedAccountService, type ConnectedAccountStatus } from '../../../src/services/connected-account-service.ts';
import { SqlGuardrailService } from '../../../src/services/guardrail-service.ts';
import { SqlOutboxService, type EnqueueInput, type EnqueueResult } from '../../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../../src/services/tenant-service.ts';
import type { RiskTier } from '../../../src/services/validation.ts';
import type { FakeComposio } from '../../fakes/composio/index.ts';
import type { BackendContext } from '../../support/backends.ts';

// Tenants wired to the fake Composio, as catalog sync and a completed link would leave
// them: catalog entries copied from the fake's tools at a pinned version, a connected
// account at the fake (its user is the tenant) and Steward's row naming it.

export const T0 = new Date('2026-06-01T12:00:00Z'); // a Monday, noon UTC: no quiet hours

export interface CatalogTool {
  slug: string;
  version: string;
  /** Default: the tool's scopes at Composio, as catalog sync stores them. */
  required_scopes?: string[];
  risk?: RiskTier;
}

export interface ComposioTenant {
  id: string;
  /** The account's Composio id (`ca_…`), what envelopes name. */
  composioId: string;
  /** Steward's connected_accounts.id. */
  accountId: string;
}

export async function composioTenant(
  ctx: BackendContext, fake: FakeComposio, client: ComposioClient,
  options: { toolkit: string; tools: CatalogTool[]; accountStatus?: ConnectedAccountStatus; concurrency_limit?: number },
): Promise<ComposioTenant> {
  const id = randomUUID();
  await new SqlTenantService(ctx.service()).create({ id, name: `composio ${id.slice(0, 8)}`, concurrency_limit: options.concurrency_limit ?? 5 });
  await new SqlGuardrailService(ctx.service()).upsert({ tenant_id: id, trust_threshold: 0.5, require_evidence: false });
  const scopes: string[] = [];
  for (const t of options.tools) {
    const tool = await client.getTool(t.slug, { version: t.version });
    scopes.push(...tool.scopes);
    await new SqlCatalogService(ctx.service()).upsert({
      tenant_id: id, tool_slug: tool.slug, version: tool.version, display_name: tool.name, schema: tool.input_parameters,
      required_scopes: t.required_scopes ?? tool.scopes, risk: t.risk ?? 'medium',
    });
  }
  const composioId = fake.addConnectedAccount({ toolkit: options.toolkit, userId: id });
  const account = await new SqlConnectedAccountService(ctx.service()).create({
    tenant_id: id, provider: options.toolkit, status: options.accountStatus ?? 'active', scopes, metadata: { composio_id: composioId },
  });
  return { id, composioId, accountId: account.id };
}

export async function enqueueEnvelope(ctx: BackendContext, tenant: ComposioTenant, input: Partial<EnqueueInput> & Pick<EnqueueInput, 'tool_slug' | 'arguments'>): Promise<EnqueueResult> {
  return new SqlOutboxService(ctx.service()).enqueue({
    tenant_id: tenant.id, connected_account_id: tenant.composioId, trust_context: { score: 0.9 },
    next_run_at: new Date(T0.getTime() - 1000), ...input,
  });
}

/** The envelope wherever it is: outbox or DLQ (status `dlq`). */
export async function envelopeRow(ctx: BackendContext, id: string): Promise<{ status: string; attempts: number; last_error: string | null; result: unknown; next_run_at: Date | null }> {
  return ctx.db.asService(async (tx) => (await tx.query<{ status: string; attempts: number; last_error: string | null; result: unknown; next_run_at: Date | null }>(
    `select status, attempts, last_error, result, next_run_at from outbox where id = $1
     union all select status, attempts, last_error, result, null from outbox_dlq where id = $1`, [id])).rows[0]!);
}

/** audit_log payloads about one envelope, oldest first. */
export async function envelopeAudit(ctx: BackendContext, id: string): Promise<Record<string, unknown>[]> {
  return ctx.db.asService(async (tx) => (await tx.query<{ payload: Record<string, unknown> }>(
    `select payload from audit_log where payload ->> 'envelope_id' = $1 and category = 'outbox' order by id`, [id])).rows.map((r) => r.payload));
}

/** audit_log rows of category connected_account about one account, oldest first. */
export async function accountAudit(ctx: BackendContext, accountId: string): Promise<{ actor_type: string; actor_id: string; payload: Record<string, unknown> }[]> {
  return ctx.db.asService(async (tx) => (await tx.query<{ actor_type: string; actor_id: string; payload: Record<string, unknown> }>(
    `select actor_type, actor_id, payload from audit_log where category = 'connected_account' and payload ->> 'account_id' = $1 order by id`, [accountId])).rows);
}

/**
 * Execute calls the fake received (whatever it answered), of one envelope (its external_id
 * travels as Idempotency-Key) or of a tool. Per envelope is what a test should count: a
 * test that moves the clock makes earlier tests' retries due as well.
 */
export function executeCalls(fake: FakeComposio, filter: { key?: string; tool?: string } = {}): number {
  return fake.requests.filter((r) => r.route === 'tools.execute'
    && (filter.tool === undefined || r.tool === filter.tool)
    && (filter.key === undefined || r.headers['idempotency-key'] === filter.key)).length;
}
