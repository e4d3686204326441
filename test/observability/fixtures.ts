import { SqlCatalogService } from '../../src/services/catalog-service.ts';
import { SqlConnectedAccountService } from '../../src/services/connected-account-service.ts';
import { SqlGuardrailService } from '../../src/services/guardrail-service.ts';
import { SqlOutboxService, type EnqueueInput } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import type { BackendContext } from '../support/backends.ts';

// A tenant whose guardrails let a trusted envelope through, and envelopes for it (as in
// test/worker/outbox-metrics.test.ts), for runs of the real worker.

export const T0 = new Date('2026-06-01T12:00:00Z');
/** A demo tool the sandbox executor knows: it needs a non-empty `channel`. */
export const TOOL = 'SLACK__chat.postMessage';
const SCOPE = 'SLACK.CHAT:WRITE';

export async function createTenant(ctx: BackendContext, id: string): Promise<void> {
  await new SqlTenantService(ctx.service()).create({ id, name: `O ${id.slice(-4)}`, concurrency_limit: 10 });
  await new SqlGuardrailService(ctx.service()).upsert({ tenant_id: id, trust_threshold: 0.5, require_evidence: false });
  await new SqlCatalogService(ctx.service()).upsert({ tenant_id: id, tool_slug: TOOL, risk: 'medium', required_scopes: [SCOPE] });
  await new SqlConnectedAccountService(ctx.service()).create({ tenant_id: id, provider: 'slack', status: 'active', scopes: [SCOPE], metadata: { composio_id: `ca-${id}` } });
}

/** A trusted envelope, due before T0 (and before now). */
export async function enqueue(ctx: BackendContext, tenant_id: string, extra: Partial<EnqueueInput> = {}): Promise<string> {
  const e = await new SqlOutboxService(ctx.service()).enqueue({
    tenant_id, tool_slug: TOOL, arguments: { channel: '#ops', text: 'hi' }, connected_account_id: `ca-${tenant_id}`,
    trust_context: { score: 0.9 }, next_run_at: new Date(T0.getTime() - 1000), ...extra,
  });
  return e.id;
}
