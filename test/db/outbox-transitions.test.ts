import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { SqlOutboxService, type OutboxEnvelope } from '../../src/services/outbox-service.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { canTransition, TRANSITIONS, type EnvelopeStatus } from '../../src/domain/envelope-status.ts';
import { rejectsWith } from '../support/assert-error.ts';
import { forEachBackend } from '../support/backends.ts';

// 005_outbox_transitions: every transition function, through the service role (and the
// approval RPCs through tenant tokens), with the audit row each must write and the
// per-tenant running count it must keep.

const T0 = new Date('2026-06-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const MAX_ATTEMPTS = { low: 5, medium: 3, high: 2 };

interface Outcome {
  id: string;
  to: string;
  transition?: string;
  attempted?: boolean;
  error?: string;
  result?: unknown;
  next_run_at?: string;
  latency_ms?: number;
  decision?: unknown;
}

let tenantSeq = 0;

forEachBackend('outbox transitions', (ctx, backend) => {
  const service = <T>(fn: (tx: Transaction) => Promise<T>) => ctx().db.asService(fn);
  const outbox = () => new SqlOutboxService(ctx().service());

  async function newTenant(concurrency_limit = 1): Promise<string> {
    tenantSeq += 1;
    const id = `00000000-0000-4000-8000-${String(tenantSeq).padStart(12, '0')}`;
    await new SqlTenantService(ctx().service()).create({ id, name: `T${tenantSeq}`, concurrency_limit });
    return id;
  }

  async function enqueue(tenant_id: string, n: number, extra: { risk?: 'low' | 'medium' | 'high'; next_run_at?: Date } = {}): Promise<string[]> {
    const res = await outbox().enqueueMany(Array.from({ length: n }, (_, i) => ({
      tenant_id, tool_slug: 'SLACK__chat.postMessage', arguments: { i }, next_run_at: extra.next_run_at ?? at(-60 + i), ...(extra.risk ? { risk: extra.risk } : {}),
    })));
    return res.map((r) => r.id);
  }

  const claim = (worker: string, limit: number, now = T0, lease = 30) =>
    service(async (tx) => (await tx.query<OutboxEnvelope>('select * from steward.claim_envelopes($1, $2, $3, $4)', [worker, limit, lease, now])).rows);

  const complete = (worker: string, outcomes: Outcome[], now = T0) =>
    service(async (tx) => (await tx.query<{ id: string; applied: boolean; status: string }>(
      'select * from steward.complete_envelopes($1, $2::jsonb, $3)', [worker, JSON.stringify(outcomes), now])).rows);

  const row = (id: string) => service(async (tx) => (await tx.query<OutboxEnvelope>('select * from outbox where id = $1', [id])).rows[0]);
  const dlqRow = (id: string) => service(async (tx) => (await tx.query<{ id: string; attempts: number; last_error: string | null }>('select * from outbox_dlq where id = $1', [id])).rows[0]);
  const running = (tenant: string) => service(async (tx) => {
    const r = await tx.query<{ slots: number | null; actual: number }>(
      `select (select running from steward.tenant_slots where tenant_id = $1) as slots,
              (select count(*)::int from outbox where tenant_id = $1 and status = 'in_progress') as actual`, [tenant]);
    return r.rows[0]!;
  });
  const auditOf = (id: string) => service(async (tx) => (await tx.query<{ category: string; actor_id: string; payload: Record<string, unknown> }>(
    `select category, actor_id, payload from audit_log where payload ->> 'envelope_id' = $1 order by id`, [id])).rows);
  const transitionsOf = async (id: string) => (await auditOf(id)).map((a) => `${String(a.payload.transition)}:${String(a.payload.from)}->${String(a.payload.to)}`);

  it('claim takes due pending envelopes only, leases them and audits each claim', async () => {
    const t = await newTenant(5);
    const [a, b] = await enqueue(t, 2);
    const [later] = await enqueue(t, 1, { next_run_at: at(60) });
    const claimed = await claim('w1', 10);
    assert.deepEqual(claimed.map((c) => c.id).sort(), [a, b].sort());
    for (const c of claimed) {
      assert.equal(c.status, 'in_progress');
      assert.equal(c.locked_by, 'w1');
      assert.equal(c.locked_until?.getTime(), at(30).getTime());
      assert.deepEqual(await transitionsOf(c.id), ['enqueue:null->pending', 'claim:pending->in_progress']);
    }
    assert.equal((await row(later!))?.status, 'pending');
    assert.deepEqual(await running(t), { slots: 2, actual: 2 });
  });

  it('never runs more of a tenant than its concurrency limit; a finished envelope frees its slot at once', async () => {
    const t = await newTenant(1);
    const [first, second] = await enqueue(t, 2);
    assert.deepEqual((await claim('w1', 10)).map((c) => c.id).filter((id) => id === first || id === second), [first]);
    assert.deepEqual((await claim('w2', 10)).filter((c) => c.tenant_id === t), [], 'the only slot is taken');
    await complete('w1', [{ id: first!, to: 'success', attempted: true, result: { ok: true } }]);
    assert.deepEqual(await running(t), { slots: 0, actual: 0 });
    assert.deepEqual((await claim('w2', 10)).map((c) => c.id), [second]);
  });

  it('a tenant with a long backlog does not starve the others: once it is saturated, others are claimed', async () => {
    const busy = await newTenant(1);
    const quiet = await newTenant(1);
    await enqueue(busy, 12);
    const [q] = await enqueue(quiet, 1, { next_run_at: at(-1) });
    const first = await claim('w1', 2);
    const second = await claim('w1', 2);
    const claimedIds = [...first, ...second].map((c) => c.id);
    assert.ok(claimedIds.includes(q!), 'the quiet tenant is served by the second claim at the latest');
    assert.equal([...first, ...second].filter((c) => c.tenant_id === busy).length, 1);
  });

  if (backend === 'postgres') {
    it('concurrent claimers on separate connections never exceed a tenant limit', async () => {
      const t = await newTenant(2);
      await enqueue(t, 20);
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => claim(`racer-${i}`, 10)));
      const mine = results.flat().filter((c) => c.tenant_id === t);
      assert.equal(mine.length, 2);
      assert.deepEqual(await running(t), { slots: 2, actual: 2 });
    });
  }

  it('complete applies each outcome under the lease, audits it and frees the slot', async () => {
    const t = await newTenant(10);
    const ids = await enqueue(t, 6, { risk: 'low' });
    await claim('w1', 10);
    const [ok, conflict, retry, defer, approval, rejected] = ids as [string, string, string, string, string, string];
    const res = await complete('w1', [
      { id: ok, to: 'success', attempted: true, result: { ts: '1' }, latency_ms: 12 },
      { id: conflict, to: 'conflict', attempted: true, error: 'HTTP 409' },
      { id: retry, to: 'pending', transition: 'retry', attempted: true, error: 'HTTP 503', next_run_at: at(5).toISOString() },
      { id: defer, to: 'pending', transition: 'defer', attempted: false, next_run_at: at(3600).toISOString(), decision: { quietHours: { allowed: false } } },
      { id: approval, to: 'awaiting_approval', attempted: false, decision: { trust: { allowed: false } } },
      { id: rejected, to: 'rejected', attempted: false, error: 'missing scope slack.chat:write' },
    ]);
    assert.ok(res.every((r) => r.applied), JSON.stringify(res));
    const expect: Record<string, [string, number, string | null]> = {
      [ok]: ['success', 1, null], [conflict]: ['conflict', 1, 'HTTP 409'], [retry]: ['pending', 1, 'HTTP 503'],
      [defer]: ['pending', 0, null], [approval]: ['awaiting_approval', 0, null], [rejected]: ['rejected', 0, 'missing scope slack.chat:write'],
    };
    for (const [id, [status, attempts, error]] of Object.entries(expect)) {
      const r = (await row(id))!;
      assert.deepEqual([r.status, r.attempts, r.last_error], [status, attempts, error], id);
      assert.equal(r.locked_by, null);
    }
    assert.deepEqual((await row(ok))!.result, { ts: '1' });
    assert.equal((await row(retry))!.next_run_at.getTime(), at(5).getTime());
    assert.equal((await row(defer))!.next_run_at.getTime(), at(3600).getTime());
    assert.deepEqual(await transitionsOf(retry), ['enqueue:null->pending', 'claim:pending->in_progress', 'retry:in_progress->pending']);
    assert.deepEqual(await transitionsOf(defer), ['enqueue:null->pending', 'claim:pending->in_progress', 'defer:in_progress->pending']);
    assert.deepEqual(await transitionsOf(approval), ['enqueue:null->pending', 'claim:pending->in_progress', 'await_approval:in_progress->awaiting_approval']);
    const okAudit = (await auditOf(ok)).at(-1)!;
    assert.deepEqual([okAudit.category, okAudit.actor_id, okAudit.payload.attempt, okAudit.payload.latency_ms], ['outbox', 'w1', 1, 12]);
    assert.deepEqual((await auditOf(defer)).at(-1)!.payload.decision, { quietHours: { allowed: false } });
    assert.deepEqual(await running(t), { slots: 0, actual: 0 });
  });

  it('dead-lettering moves the envelope atomically: in outbox_dlq, not in outbox, audited', async () => {
    const t = await newTenant(1);
    const [id] = await enqueue(t, 1);
    await claim('w1', 10);
    const [res] = await complete('w1', [{ id: id!, to: 'dlq', transition: 'dead_letter', attempted: true, error: 'HTTP 400: bad request' }]);
    assert.deepEqual(res, { id, applied: true, status: 'dlq' });
    assert.equal(await row(id!), undefined);
    assert.deepEqual({ ...(await dlqRow(id!))!, id: undefined }, { ...(await dlqRow(id!))!, id: undefined, attempts: 1, last_error: 'HTTP 400: bad request' });
    assert.deepEqual(await transitionsOf(id!), ['enqueue:null->pending', 'claim:pending->in_progress', 'dead_letter:in_progress->dlq']);
    assert.deepEqual(await running(t), { slots: 0, actual: 0 });
  });

  it('complete refuses outcomes without the lease: another worker, a finished envelope, an unknown status', async () => {
    const t = await newTenant(2);
    const [mine, other] = await enqueue(t, 2);
    await claim('w1', 10);
    const res = await complete('w2', [{ id: mine!, to: 'success', attempted: true }]);
    assert.deepEqual(res, [{ id: mine, applied: false, status: 'in_progress' }]);
    assert.deepEqual(await complete('w1', [{ id: other!, to: 'nonsense', attempted: true }]), [{ id: other, applied: false, status: 'in_progress' }]);
    await complete('w1', [{ id: mine!, to: 'success', attempted: true }]);
    assert.deepEqual(await complete('w1', [{ id: mine!, to: 'conflict', attempted: true }]), [{ id: mine, applied: false, status: 'success' }]);
    assert.deepEqual(await transitionsOf(mine!), ['enqueue:null->pending', 'claim:pending->in_progress', 'succeed:in_progress->success']);
  });

  it('extend_leases renews only the caller\'s own running envelopes', async () => {
    const t = await newTenant(2);
    const [a] = await enqueue(t, 1);
    await claim('w1', 10);
    const renewed = await service(async (tx) => (await tx.query<{ extend_leases: string }>('select * from steward.extend_leases($1, $2, $3, $4)', ['w1', [a], 60, at(10)])).rows);
    assert.deepEqual(renewed.map((r) => r.extend_leases), [a]);
    assert.equal((await row(a!))!.locked_until?.getTime(), at(70).getTime());
    const stolen = await service(async (tx) => (await tx.query('select * from steward.extend_leases($1, $2, $3, $4)', ['w2', [a], 60, at(20)])).rows);
    assert.deepEqual(stolen, []);
  });

  it('an expired lease is recovered: back to pending with the attempt counted, or to the DLQ when exhausted', async () => {
    const t = await newTenant(5);
    const [soft] = await enqueue(t, 1, { risk: 'low' });
    const [hard] = await enqueue(t, 1, { risk: 'high' });
    const [fresh] = await enqueue(t, 1, { risk: 'low' });
    await claim('dead-worker', 2, T0, 30); // soft and hard (oldest first)
    await claim('alive-worker', 1, at(20), 30); // fresh: lease until at(50)
    await service((tx) => tx.query(`update outbox set attempts = 1 where id = $1`, [hard]));
    const recovered = await service(async (tx) => (await tx.query<{ id: string; status: string }>(
      'select * from steward.recover_expired_leases($1::jsonb, $2)', [JSON.stringify(MAX_ATTEMPTS), at(40)])).rows);
    // Recovery is global; this test looks at its own tenant's envelopes.
    const ours = recovered.filter((r) => [soft, hard, fresh].includes(r.id));
    assert.deepEqual(ours.map((r) => [r.id, r.status]).sort(), [[soft, 'pending'], [hard, 'dlq']].sort());
    assert.deepEqual([(await row(soft!))!.status, (await row(soft!))!.attempts], ['pending', 1]);
    assert.match((await row(soft!))!.last_error ?? '', /lease expired: worker dead-worker/);
    assert.equal((await dlqRow(hard!))!.attempts, 2);
    assert.equal((await row(fresh!))!.status, 'in_progress', 'an unexpired lease is left alone');
    assert.deepEqual(await transitionsOf(soft!), ['enqueue:null->pending', 'claim:pending->in_progress', 'abandon:in_progress->pending']);
    assert.deepEqual(await running(t), { slots: 1, actual: 1 });
  });

  it('requeue moves dead letters back to pending with attempts reset, by envelope or by tenant', async () => {
    const t = await newTenant(5);
    const ids = await enqueue(t, 3);
    await claim('w1', 10);
    await complete('w1', ids.map((id) => ({ id, to: 'dlq', attempted: true, error: 'boom' })));
    const one = await service(async (tx) => (await tx.query<{ requeue_dead_letters: string }>(
      'select * from steward.requeue_dead_letters($1, $2, $3, $4, $5)', ['ops@example.com', t, ids[0], 50, at(1)])).rows);
    assert.deepEqual(one.map((r) => r.requeue_dead_letters), [ids[0]]);
    const r = (await row(ids[0]!))!;
    assert.deepEqual([r.status, r.attempts, r.last_error, r.next_run_at.getTime()], ['pending', 0, null, at(1).getTime()]);
    assert.equal(await dlqRow(ids[0]!), undefined);
    const rest = await service(async (tx) => (await tx.query('select * from steward.requeue_dead_letters($1, $2, null, $3)', ['ops', t, 1])).rows);
    assert.equal(rest.length, 1, 'the limit holds');
    assert.deepEqual((await transitionsOf(ids[0]!)).at(-1), 'requeue:dlq->pending');
    assert.equal((await auditOf(ids[0]!)).at(-1)!.actor_id, 'ops@example.com');
  });

  it('one NOTIFY per statement, not per row, naming the tenants and what became claimable', async () => {
    const t = await newTenant(5);
    const payloads: { tenants: string[] | null; claimable: number }[] = [];
    const unlisten = await ctx().db.driver.listen('steward_outbox', (p) => payloads.push(JSON.parse(p) as { tenants: string[] | null; claimable: number }));
    try {
      await enqueue(t, 3); // one multi-row insert
      await claim('w-notify', 10);
      const deadline = Date.now() + 2000;
      while (payloads.filter((p) => p.tenants?.includes(t)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await unlisten();
    }
    const ours = payloads.filter((p) => p.tenants?.includes(t));
    assert.equal(ours.length, 2, JSON.stringify(payloads));
    assert.deepEqual(ours[0], { tenants: [t], claimable: 3, awaiting_approval: 0 });
    assert.equal(ours[1]!.claimable, 0, 'a claim makes nothing claimable');
  });

  it('a freed slot counts as claimable only when its tenant has an envelope waiting', async () => {
    const t = await newTenant(1);
    const [first, second] = await enqueue(t, 2);
    const payloads: { tenants: string[] | null; claimable: number }[] = [];
    const ours = () => payloads.filter((p) => p.tenants?.includes(t));
    const until = async (n: number) => {
      for (const deadline = Date.now() + 2000; ours().length < n && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    };
    const unlisten = await ctx().db.driver.listen('steward_outbox', (p) => payloads.push(JSON.parse(p) as { tenants: string[] | null; claimable: number }));
    try {
      assert.deepEqual((await claim('w-slots', 10)).map((e) => e.id), [first]); // limit 1: the second waits
      await complete('w-slots', [{ id: first!, to: 'success', transition: 'succeed', attempted: true }]);
      await until(2);
      assert.deepEqual((await claim('w-slots', 10)).map((e) => e.id), [second]);
      await complete('w-slots', [{ id: second!, to: 'success', transition: 'succeed', attempted: true }]);
      await until(4);
    } finally {
      await unlisten();
    }
    assert.deepEqual(ours().map((p) => p.claimable), [0, 1, 0, 0], JSON.stringify(ours()));
  });

  it('no envelope is ever in both outbox and outbox_dlq, or in neither', async () => {
    const counts = await service(async (tx) => (await tx.query<{ both: number }>(
      'select count(*)::int as both from outbox o join outbox_dlq q on q.id = o.id')).rows[0]!);
    assert.equal(counts.both, 0);
  });

  it('the running count always equals the in_progress rows, also after direct updates', async () => {
    const t = await newTenant(3);
    const ids = await enqueue(t, 3);
    await claim('w1', 10);
    await service((tx) => tx.query(`update outbox set status = 'pending', locked_by = null, locked_until = null where id = $1`, [ids[0]]));
    assert.deepEqual(await running(t), { slots: 2, actual: 2 });
    await service((tx) => tx.query('delete from outbox where id = $1', [ids[1]]));
    assert.deepEqual(await running(t), { slots: 1, actual: 1 });
  });

  describe_approvals();

  // Last: it reads every transition the tests above wrote.
  it('every audited transition is one the domain\'s state machine allows, under its name', async () => {
    const rows = await service(async (tx) => (await tx.query<{ transition: string; from: string | null; to: string }>(
      `select distinct payload ->> 'transition' as transition, payload ->> 'from' as from, payload ->> 'to' as to
         from audit_log where category in ('outbox', 'approval')`)).rows);
    assert.ok(rows.length >= 10, `saw ${rows.length} kinds of transition`);
    for (const r of rows) {
      if (r.transition === 'enqueue') continue; // creation, not a transition between states
      const named = TRANSITIONS.find((t) => t.name === r.transition);
      assert.ok(named, `unknown transition ${r.transition}`);
      assert.deepEqual([named.from, named.to], [r.from, r.to], r.transition);
      assert.ok(canTransition(r.from as EnvelopeStatus, r.to as EnvelopeStatus));
    }
  });

  function describe_approvals(): void {
    let tenantA = '';
    let tenantB = '';
    let waiting: string[] = [];
    before(async () => {
      tenantA = await newTenant(5);
      tenantB = await newTenant(5);
      waiting = await enqueue(tenantA, 4);
      await claim('w1', 10);
      await complete('w1', waiting.map((id) => ({ id, to: 'awaiting_approval', attempted: false })));
    });
    const rpc = (claims: Record<string, unknown> | 'service', fn: 'approve_envelope' | 'reject_envelope', id: string, reason?: string) => {
      const run = (tx: Transaction) => tx.query<OutboxEnvelope>(`select * from public.${fn}($1, $2)`, [id, reason ?? null]);
      return claims === 'service' ? ctx().db.asService(run) : ctx().db.asTenant(claims, run);
    };

    it('a tenant approves its own envelope: back to pending, marked approved, audited as approval', async () => {
      const res = await rpc({ tenant_id: tenantA, sub: '5ab5ab5a-0000-4000-8000-000000000005' }, 'approve_envelope', waiting[0]!, 'looks right');
      const env = res.rows[0]!;
      assert.deepEqual([env.status, env.approved_by], ['pending', '5ab5ab5a-0000-4000-8000-000000000005']);
      assert.ok(env.approved_at instanceof Date);
      const last = (await auditOf(waiting[0]!)).at(-1)!;
      assert.deepEqual([last.category, last.payload.transition, last.payload.from, last.payload.to, last.payload.reason], ['approval', 'approve', 'awaiting_approval', 'pending', 'looks right']);
    });

    it('a tenant rejects its own envelope: rejected, terminal, with the reason', async () => {
      const env = (await rpc({ tenant_id: tenantA }, 'reject_envelope', waiting[1]!, 'wrong customer')).rows[0]!;
      assert.deepEqual([env.status, env.last_error], ['rejected', 'rejected: wrong customer']);
      assert.deepEqual((await transitionsOf(waiting[1]!)).at(-1), 'deny:awaiting_approval->rejected');
    });

    it('another tenant cannot approve or reject it (not found), nor can anon; nothing changes', async () => {
      await rejectsWith(rpc({ tenant_id: tenantB }, 'approve_envelope', waiting[2]!), 'not_found');
      await rejectsWith(rpc({ tenant_id: tenantB }, 'reject_envelope', waiting[2]!), 'not_found');
      await rejectsWith(rpc({}, 'approve_envelope', waiting[2]!), 'forbidden');
      await rejectsWith(rpc({ role: 'anon' }, 'approve_envelope', waiting[2]!), 'forbidden');
      assert.equal((await row(waiting[2]!))!.status, 'awaiting_approval');
      assert.equal((await auditOf(waiting[2]!)).filter((a) => a.category === 'approval').length, 0);
    });

    it('the service role may decide any envelope; deciding twice is a conflict', async () => {
      assert.equal((await rpc('service', 'approve_envelope', waiting[3]!)).rows[0]!.status, 'pending');
      await rejectsWith(rpc('service', 'approve_envelope', waiting[3]!), 'conflict');
      await rejectsWith(rpc({ tenant_id: tenantA }, 'reject_envelope', waiting[0]!), 'conflict');
    });

    it('tenants cannot call the worker functions', async () => {
      await rejectsWith(ctx().db.asTenant({ tenant_id: tenantA }, (tx) => tx.query('select * from steward.claim_envelopes($1, $2, $3)', ['x', 1, 1])), 'forbidden');
      await rejectsWith(ctx().db.asTenant({ tenant_id: tenantA }, (tx) => tx.query('select * from steward.enqueue_envelopes($1)', ['[]'])), 'forbidden');
      // From the catalog, so a function added later is covered: in the internal schema,
      // only trigger functions and immutable helpers are left executable to everyone.
      const open = await ctx().test.owner.transaction(async (tx) => (await tx.query<{ fn: string }>(
        `select p.oid::regprocedure::text as fn from pg_proc p
          where p.pronamespace = 'steward'::regnamespace
            and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype) and p.provolatile <> 'i'
            and (has_function_privilege('authenticated', p.oid, 'execute') or has_function_privilege('anon', p.oid, 'execute'))`)).rows);
      assert.deepEqual(open, []);
    });
  }
});
