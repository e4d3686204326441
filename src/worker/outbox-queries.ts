import type { Transaction } from '../db/types.ts';
import type { Completion } from '../domain/envelope-outcome.ts';
import type { RetryPolicies } from '../domain/retry-policy.ts';
import type { Guardrails } from '../services/guardrail-service.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';

// The worker's statements, one named function each; the transitions themselves are SQL
// functions in db/migrations/005_outbox_transitions.sql.

export async function claimEnvelopes(tx: Transaction, worker: string, limit: number, leaseSeconds: number, now: Date): Promise<OutboxEnvelope[]> {
  const res = await tx.query<OutboxEnvelope>('select * from steward.claim_envelopes($1, $2, $3, $4)', [worker, limit, leaseSeconds, now]);
  return res.rows;
}

export interface CompletionApplied {
  id: string;
  applied: boolean;
  status: string;
}

export async function completeEnvelopes(tx: Transaction, worker: string, completions: readonly Completion[], now: Date): Promise<CompletionApplied[]> {
  const res = await tx.query<CompletionApplied>('select * from steward.complete_envelopes($1, $2::jsonb, $3)', [worker, JSON.stringify(completions), now]);
  return res.rows;
}

export async function extendLeases(tx: Transaction, worker: string, ids: readonly string[], leaseSeconds: number, now: Date): Promise<string[]> {
  const res = await tx.query<{ id: string }>('select id from steward.extend_leases($1, $2, $3, $4) as id', [worker, ids, leaseSeconds, now]);
  return res.rows.map((r) => r.id);
}

export async function recoverExpiredLeases(tx: Transaction, policies: RetryPolicies, now: Date): Promise<{ id: string; status: string }[]> {
  const maxAttempts = { low: policies.low.maxAttempts, medium: policies.medium.maxAttempts, high: policies.high.maxAttempts };
  const res = await tx.query<{ id: string; status: string }>('select * from steward.recover_expired_leases($1::jsonb, $2)', [JSON.stringify(maxAttempts), now]);
  return res.rows;
}

/** What the guardrails need to judge one claimed envelope. */
export interface GuardrailContext {
  id: string;
  timezone: string;
  guardrails: Pick<Guardrails, 'quiet_hours' | 'trust_threshold' | 'require_evidence'> | null;
  /** The catalog entry's scopes (the most recently updated version); none: []. */
  required_scopes: string[];
  /** The envelope's connected account's scopes, if it names an active one of its tenant. */
  granted_scopes: string[] | null;
  /** The status of the connected account it names, if one of its tenant's; else null (GuardrailInput.accountStatus). */
  account_status: string | null;
  evidence_count: number;
}

// One round trip for a whole claimed batch. An envelope names its connected account by
// Composio id (metadata.composio_id) or by Steward's own id; one lookup finds it (an
// active one first) and gives its status; only an active one grants scopes. Evidence for
// an envelope is the evidence rows whose source_id is its id.
const LOAD_GUARDRAIL_CONTEXT = `
  select o.id, t.timezone,
         case when g.tenant_id is null then null else jsonb_build_object(
           'quiet_hours', g.quiet_hours, 'trust_threshold', g.trust_threshold, 'require_evidence', g.require_evidence) end as guardrails,
         coalesce((select c.required_scopes from tool_catalog c
                    where c.tenant_id = o.tenant_id and c.tool_slug = o.tool_slug
                    order by c.updated_at desc, c.id desc limit 1), '{}') as required_scopes,
         case when a.status = 'active' then a.scopes end as granted_scopes,
         a.status as account_status,
         (select count(*)::int from evidence_embeddings e
           where e.tenant_id = o.tenant_id and e.source_id = o.id::text) as evidence_count
    from outbox o
    join tenants t on t.id = o.tenant_id
    left join guardrails g on g.tenant_id = o.tenant_id
    left join lateral (
      select x.status, x.scopes from connected_accounts x
       where x.tenant_id = o.tenant_id
         and (x.metadata ->> 'composio_id' = o.connected_account_id or x.id::text = o.connected_account_id)
       order by (x.status = 'active') desc, x.id
       limit 1) a on true
   where o.id = any($1::uuid[])`;

export async function loadGuardrailContexts(tx: Transaction, ids: readonly string[]): Promise<Map<string, GuardrailContext>> {
  // jsonb_build_object turns trust_threshold (numeric) into a JSON number.
  const res = await tx.query<GuardrailContext>(LOAD_GUARDRAIL_CONTEXT, [ids]);
  return new Map(res.rows.map((r) => [r.id, r]));
}
