import { z } from 'zod';
import type { Access } from './access.ts';
import type { OutboxEnvelope, OutboxStatus } from './outbox-service.ts';
import { limit, notFound, parseInput, uuid } from './validation.ts';

/** Queue depth by status, DLQ size and the oldest due envelope: `outbox status`. */
export interface OutboxStats {
  by_status: Record<OutboxStatus, number>;
  dlq: number;
  /** When the oldest due pending envelope became due; null when none is due. */
  oldest_due_at: Date | null;
}

export interface TenantDlqSize {
  tenant_id: string;
  size: number;
}

const actor = z.string().trim().min(1).max(200);
export const requeueInput = z.strictObject({
  tenant_id: uuid.optional(),
  envelope_id: uuid.optional(),
  limit: z.number().int().min(1).max(10_000).default(50),
  actor,
});
export type RequeueInput = z.input<typeof requeueInput>;

export const decisionInput = z.strictObject({ envelope_id: uuid, reason: z.string().trim().min(1).max(1000).optional() });
export type DecisionInput = z.input<typeof decisionInput>;

/** Operating the queue: what operators (CLI, console) and tenants (approvals) do to it. */
export interface OutboxOperations {
  stats(tenantId?: string): Promise<OutboxStats>;
  /** Dead letters per tenant, every visible tenant included (0 when none): the DLQ gauge. */
  dlqSizeByTenant(): Promise<TenantDlqSize[]>;
  /** Dead letters back to pending, attempts reset (drain; retry-dlq with envelope_id). */
  requeueDeadLetters(input: RequeueInput): Promise<string[]>;
  listAwaitingApproval(query?: { tenant_id?: string; limit?: number }): Promise<OutboxEnvelope[]>;
  /** awaiting_approval → pending, approved: the trust and evidence checks are not asked again. */
  approve(input: DecisionInput): Promise<OutboxEnvelope>;
  /** awaiting_approval → rejected (terminal). */
  reject(input: DecisionInput): Promise<OutboxEnvelope>;
}

const STATS = `
  select coalesce(jsonb_object_agg(status, n) filter (where status is not null), '{}') as by_status,
         (select count(*)::int from outbox_dlq where $1::uuid is null or tenant_id = $1) as dlq,
         (select min(next_run_at) from outbox
           where status = 'pending' and next_run_at <= now() and ($1::uuid is null or tenant_id = $1)) as oldest_due_at
    from (select status, count(*)::int as n from outbox where $1::uuid is null or tenant_id = $1 group by status) s`;

// From tenants, not from outbox_dlq alone: a drained tenant must read 0, not vanish (a
// gauge series that disappears looks like missing data, and alerts on it resolve silently).
// Under a tenant's claims RLS leaves only its own row.
const DLQ_SIZE_BY_TENANT = `
  select t.id as tenant_id, count(d.id)::int as size
    from tenants t
    left join outbox_dlq d on d.tenant_id = t.id
   group by t.id
   order by t.id`;

// The RPCs check the caller themselves (service role, or the envelope's own tenant).
const DECIDE = {
  approve: 'select * from public.approve_envelope($1, $2)',
  reject: 'select * from public.reject_envelope($1, $2)',
} as const;

const STATUSES: readonly OutboxStatus[] = ['pending', 'in_progress', 'awaiting_approval', 'success', 'conflict', 'rejected'];

export class SqlOutboxOperations implements OutboxOperations {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async stats(tenantId?: string): Promise<OutboxStats> {
    const tenant = parseInput(uuid.optional(), tenantId, 'tenant_id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<{ by_status: Partial<Record<OutboxStatus, number>>; dlq: number; oldest_due_at: Date | null }>(STATS, [tenant ?? null])).rows[0]!,
    );
    const by_status = Object.fromEntries(STATUSES.map((s) => [s, row.by_status[s] ?? 0])) as Record<OutboxStatus, number>;
    return { by_status, dlq: row.dlq, oldest_due_at: row.oldest_due_at };
  }

  async dlqSizeByTenant(): Promise<TenantDlqSize[]> {
    return this.#access.run(async (tx) => (await tx.query<TenantDlqSize>(DLQ_SIZE_BY_TENANT)).rows);
  }

  async requeueDeadLetters(input: RequeueInput): Promise<string[]> {
    const q = parseInput(requeueInput, input);
    const ids = await this.#access.run(async (tx) =>
      (await tx.query<{ id: string }>('select id from steward.requeue_dead_letters($1, $2, $3, $4) as id',
        [q.actor, q.tenant_id ?? null, q.envelope_id ?? null, q.limit])).rows.map((r) => r.id),
    );
    if (q.envelope_id && ids.length === 0) throw notFound('dead-lettered envelope', 'envelope_id', q.envelope_id);
    return ids;
  }

  async listAwaitingApproval(query: { tenant_id?: string; limit?: number } = {}): Promise<OutboxEnvelope[]> {
    const q = parseInput(z.strictObject({ tenant_id: uuid.optional(), limit }), query);
    return this.#access.run(async (tx) =>
      (await tx.query<OutboxEnvelope>(
        `select * from outbox where status = 'awaiting_approval' and ($1::uuid is null or tenant_id = $1)
          order by updated_at, id limit $2`, [q.tenant_id ?? null, q.limit])).rows,
    );
  }

  approve(input: DecisionInput): Promise<OutboxEnvelope> {
    return this.#decide(DECIDE.approve, input);
  }

  reject(input: DecisionInput): Promise<OutboxEnvelope> {
    return this.#decide(DECIDE.reject, input);
  }

  async #decide(statement: (typeof DECIDE)[keyof typeof DECIDE], input: DecisionInput): Promise<OutboxEnvelope> {
    const d = parseInput(decisionInput, input);
    return this.#access.run(async (tx) => (await tx.query<OutboxEnvelope>(statement, [d.envelope_id, d.reason ?? null])).rows[0]!);
  }
}
