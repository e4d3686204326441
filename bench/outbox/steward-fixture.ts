// Steward's side of the workload, built through the real services: tenants with
// guardrails that every envelope passes (so each one is judged by every check and then
// executed), a catalog entry requiring a scope, an active connected account granting it,
// and envelopes enqueued in bulk (OutboxService.enqueueMany, 1,000 per call).
import type { Database } from '../../src/db/database.ts';
import { serviceAccess } from '../../src/services/access.ts';
import { SqlCatalogService } from '../../src/services/catalog-service.ts';
import { SqlConnectedAccountService } from '../../src/services/connected-account-service.ts';
import { SqlGuardrailService } from '../../src/services/guardrail-service.ts';
import { SqlOutboxService, type EnqueueInput, type OutboxEnvelope } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import type { ExecutionResult, Executor } from '../../src/worker/executor.ts';

export const BENCH_TOOL = 'BENCH__noop';
const SCOPE = 'bench:run';

export interface BenchTenant {
  id: string;
  accountId: string;
}

/** `count` tenants, each with concurrency_limit `limit`, guardrails, a catalog entry and an account. */
export async function createTenants(db: Database, count: number, limit: number): Promise<BenchTenant[]> {
  const access = serviceAccess(db);
  const tenants = new SqlTenantService(access);
  const guardrails = new SqlGuardrailService(access);
  const catalog = new SqlCatalogService(access);
  const accounts = new SqlConnectedAccountService(access);
  const out: BenchTenant[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = await tenants.create({ name: `bench ${i}`, concurrency_limit: limit, timezone: 'UTC' });
    // No quiet hours (a run must not depend on the time of day); trust and scopes checked.
    await guardrails.upsert({ tenant_id: tenant.id, quiet_hours: null, trust_threshold: 0.5, require_evidence: false });
    const account = await accounts.create({ tenant_id: tenant.id, provider: 'bench', status: 'active', scopes: [SCOPE], linked_at: new Date() });
    out.push({ id: tenant.id, accountId: account.id });
  }
  await catalog.upsertMany(out.map((t) => ({ tenant_id: t.id, tool_slug: BENCH_TOOL, risk: 'low', required_scopes: [SCOPE] })));
  return out;
}

/**
 * Envelope `seq` of the run, round-robin over the tenants; its arguments carry `seq`.
 * With `dueFrom`, its next_run_at is `dueFrom` + seq ms (the backlog's order = seq).
 */
export function envelope(tenants: readonly BenchTenant[], seq: number, dueFrom?: Date): EnqueueInput {
  const tenant = tenants[seq % tenants.length]!;
  return {
    tenant_id: tenant.id,
    tool_slug: BENCH_TOOL,
    arguments: { seq },
    connected_account_id: tenant.accountId,
    external_id: `bench-${seq}`,
    trust_context: { score: 0.9 },
    ...(dueFrom ? { next_run_at: new Date(dueFrom.getTime() + seq) } : {}),
  };
}

export function outboxService(db: Database): SqlOutboxService {
  return new SqlOutboxService(serviceAccess(db));
}

/**
 * Does nothing, and records what it saw: `onStart(seq)` on its first line (latency), and
 * the most envelopes of one tenant it ever ran at once (serialization, this process only;
 * the audit-log check covers all processes).
 */
export class NoopExecutor implements Executor {
  readonly name = 'bench-noop';
  maxInFlightPerTenant = 0;
  readonly #running = new Map<string, number>();
  readonly #onStart: (seq: number) => void;

  constructor(onStart: (seq: number) => void = () => undefined) {
    this.#onStart = onStart;
  }

  async execute(envelope: OutboxEnvelope): Promise<ExecutionResult> {
    this.#onStart(envelope.arguments.seq as number);
    const n = (this.#running.get(envelope.tenant_id) ?? 0) + 1;
    this.#running.set(envelope.tenant_id, n);
    if (n > this.maxInFlightPerTenant) this.maxInFlightPerTenant = n;
    try {
      await Promise.resolve();
      return { result: null };
    } finally {
      this.#running.set(envelope.tenant_id, this.#running.get(envelope.tenant_id)! - 1);
    }
  }
}
