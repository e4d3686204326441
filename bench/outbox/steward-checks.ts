// What the harness verifies after every Steward run, as the service role. Any failure
// throws: a fast run that lost or mangled envelopes is not a result.
import type { Database } from '../../src/db/database.ts';

export interface StewardChecks {
  envelopes: number;
  succeeded: number;
  deadLettered: number;
  /** Envelopes whose audit rows are not exactly enqueue → claim → succeed, in chain order. */
  badAuditTrails: number;
  auditRows: number;
  /** Broken links reported by steward.audit_verify(). */
  brokenChains: number;
  /** tenant_slots rows still counting running envelopes. */
  slotsStillRunning: number;
  /** The most envelopes of one tenant in progress at once, replayed from the audit chains. */
  maxInFlightPerTenant: number;
  /** The tightest tenant concurrency_limit among the bench tenants. */
  tenantLimit: number;
}

const SUMMARY = `
  select (select count(*)::int from outbox) as envelopes,
         (select count(*)::int from outbox where status = 'success') as succeeded,
         (select count(*)::int from outbox_dlq) as dead_lettered,
         (select count(*)::int from audit_log where category = 'outbox') as audit_rows,
         (select count(*)::int from steward.audit_verify()) as broken_chains,
         (select count(*)::int from steward.tenant_slots where running <> 0) as slots_still_running,
         (select coalesce(min(concurrency_limit), 0)::int from tenants) as tenant_limit`;

// One trail per envelope: its outbox transitions in the order its tenant's chain recorded them.
const BAD_TRAILS = `
  with trails as (
    select payload ->> 'envelope_id' as id,
           array_agg(payload ->> 'transition' order by chain_seq) as transitions
      from audit_log where category = 'outbox' group by 1)
  select count(*)::int as n from outbox o
    left join trails t on t.id = o.id::text
   where t.transitions is distinct from array['enqueue', 'claim', 'succeed']`;

// Each tenant's chain is appended under a per-tenant lock held to commit, so chain order
// is the order in which its transitions committed: +1 at a claim, -1 when an envelope
// leaves in_progress. The running maximum is the most that tenant ever had in flight.
const MAX_IN_FLIGHT = `
  with steps as (
    select tenant_id,
           sum(case when payload ->> 'to' = 'in_progress' then 1
                    when payload ->> 'from' = 'in_progress' then -1 else 0 end)
             over (partition by tenant_id order by chain_seq) as level
      from audit_log where category = 'outbox')
  select coalesce(max(level), 0)::int as n from steps`;

export async function verifyStewardRun(db: Database, expected: number): Promise<StewardChecks> {
  const checks = await db.asService(async (tx) => {
    const s = (await tx.query<{
      envelopes: number; succeeded: number; dead_lettered: number; audit_rows: number;
      broken_chains: number; slots_still_running: number; tenant_limit: number;
    }>(SUMMARY)).rows[0]!;
    const bad = (await tx.query<{ n: number }>(BAD_TRAILS)).rows[0]!.n;
    const inFlight = (await tx.query<{ n: number }>(MAX_IN_FLIGHT)).rows[0]!.n;
    return {
      envelopes: s.envelopes, succeeded: s.succeeded, deadLettered: s.dead_lettered,
      badAuditTrails: bad, auditRows: s.audit_rows, brokenChains: s.broken_chains,
      slotsStillRunning: s.slots_still_running, maxInFlightPerTenant: inFlight, tenantLimit: s.tenant_limit,
    } satisfies StewardChecks;
  });
  const problems: string[] = [];
  if (checks.envelopes !== expected) problems.push(`${checks.envelopes} envelopes in outbox, expected ${expected}`);
  if (checks.succeeded !== expected) problems.push(`${checks.succeeded} of ${expected} envelopes are 'success'`);
  if (checks.deadLettered !== 0) problems.push(`${checks.deadLettered} envelopes dead-lettered`);
  if (checks.badAuditTrails !== 0) problems.push(`${checks.badAuditTrails} envelopes lack exactly one audit row per transition (enqueue, claim, succeed)`);
  if (checks.auditRows !== 3 * expected) problems.push(`${checks.auditRows} outbox audit rows, expected ${3 * expected}`);
  if (checks.brokenChains !== 0) problems.push(`audit_verify reports ${checks.brokenChains} broken chains`);
  if (checks.slotsStillRunning !== 0) problems.push(`${checks.slotsStillRunning} tenant_slots rows still count running envelopes`);
  if (checks.maxInFlightPerTenant > checks.tenantLimit) {
    problems.push(`a tenant had ${checks.maxInFlightPerTenant} envelopes in flight at once; its limit is ${checks.tenantLimit}`);
  }
  if (problems.length > 0) throw new Error(`Steward correctness check failed:\n  - ${problems.join('\n  - ')}`);
  return checks;
}
