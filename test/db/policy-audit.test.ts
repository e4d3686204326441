import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { forEachEngine } from '../support/engines.ts';
import { RolledBack, rolledBack } from './rls-outcome.ts';

// 003_audit's event triggers: every policy change lands in audit_log as category
// auth_policy, on the tenant-less chain. Done as the owner on a scratch table.

const TABLE = 'public.scratch_policy_audit';

interface AuditRow {
  tenant_id: string | null;
  actor_type: string;
  actor_id: string;
  category: string;
  payload: Record<string, unknown>;
  chain_seq: number;
}

forEachEngine('policy-change auditing', (ctx) => {
  let owner = '';

  before(async () => {
    const res = await ctx().owner.transaction((tx) => tx.query<{ u: string }>('select session_user::text as u'));
    owner = res.rows[0]?.u ?? '';
    assert.ok(owner);
  });

  /** Runs `ddl` as the owner (committed) and returns every audit row it wrote. */
  async function audited(ddl: string | ((tx: Transaction) => Promise<void>)): Promise<AuditRow[]> {
    const t = ctx();
    const last = await t.owner.transaction((tx) => tx.query<{ id: number }>('select coalesce(max(id), 0) as id from public.audit_log'));
    await t.owner.transaction(async (tx) => {
      if (typeof ddl === 'string') await tx.exec(ddl);
      else await ddl(tx);
    });
    const res = await t.owner.transaction((tx) =>
      tx.query<AuditRow>(
        `select tenant_id::text, actor_type, actor_id, category, payload, chain_seq
           from public.audit_log where id > $1 order by id`,
        [last.rows[0]?.id ?? 0],
      ),
    );
    return res.rows;
  }

  const row = (payload: Record<string, unknown>) => ({ tenant_id: null, actor_type: 'database', actor_id: owner, category: 'auth_policy', payload });
  const withoutSeq = (rows: AuditRow[]) => rows.map(({ chain_seq: _seq, ...rest }) => rest);

  it('creating the scratch table and enabling RLS on it write nothing', async () => {
    assert.deepEqual(await audited(`create table ${TABLE} (id int primary key, tenant_id uuid)`), []);
    assert.deepEqual(await audited(`alter table ${TABLE} enable row level security`), []);
  });

  it('CREATE POLICY writes exactly one auth_policy row naming the policy', async () => {
    const rows = await audited(`create policy scratch_read on ${TABLE} for select to authenticated using (tenant_id = public.current_tenant_id_uuid())`);
    assert.deepEqual(withoutSeq(rows), [row({ command: 'CREATE POLICY', policy: `scratch_read on ${TABLE}` })]);
  });

  it('ALTER POLICY writes exactly one (a rename names the new policy)', async () => {
    assert.deepEqual(withoutSeq(await audited(`alter policy scratch_read on ${TABLE} using (true)`)), [
      row({ command: 'ALTER POLICY', policy: `scratch_read on ${TABLE}` }),
    ]);
    assert.deepEqual(withoutSeq(await audited(`alter policy scratch_read on ${TABLE} rename to scratch_all`)), [
      row({ command: 'ALTER POLICY', policy: `scratch_all on ${TABLE}` }),
    ]);
  });

  it('DROP POLICY writes exactly one (through the sql_drop trigger)', async () => {
    assert.deepEqual(withoutSeq(await audited(`drop policy scratch_all on ${TABLE}`)), [
      row({ command: 'DROP POLICY', policy: `scratch_all on ${TABLE}` }),
    ]);
    assert.deepEqual(await audited(`drop policy if exists scratch_all on ${TABLE}`), [], 'nothing dropped, nothing written');
  });

  it('several policy changes in one transaction write one row each, in order', async () => {
    const rows = await audited(`
      create policy p1 on ${TABLE} for select using (true);
      create policy p2 on ${TABLE} as restrictive for insert with check (false);
      drop policy p1 on ${TABLE};`);
    assert.deepEqual(withoutSeq(rows), [
      row({ command: 'CREATE POLICY', policy: `p1 on ${TABLE}` }),
      row({ command: 'CREATE POLICY', policy: `p2 on ${TABLE}` }),
      row({ command: 'DROP POLICY', policy: `p1 on ${TABLE}` }),
    ]);
  });

  it('ALTER TABLE … DISABLE ROW LEVEL SECURITY on a public table writes exactly one', async () => {
    assert.deepEqual(withoutSeq(await audited(`alter table ${TABLE} disable row level security`)), [
      row({ command: 'ALTER TABLE', table: TABLE, row_level_security: false }),
    ]);
  });

  it('any ALTER TABLE that leaves a public table without RLS writes one; once RLS is back, none', async () => {
    assert.deepEqual(withoutSeq(await audited(`alter table ${TABLE} add column note text`)), [
      row({ command: 'ALTER TABLE', table: TABLE, row_level_security: false }),
    ]);
    assert.deepEqual(await audited(`alter table ${TABLE} enable row level security`), []);
    assert.deepEqual(await audited(`alter table ${TABLE} add column extra text`), []);
  });

  it('GRANT and REVOKE write one row each, keeping the statement (its objects are not exposed)', async () => {
    const grant = `grant select on ${TABLE} to anon`;
    assert.deepEqual(withoutSeq(await audited(grant)), [row({ command: 'GRANT', object_type: 'table', statement: grant })]);
    const revoke = `revoke select on ${TABLE} from anon`;
    assert.deepEqual(withoutSeq(await audited(revoke)), [row({ command: 'REVOKE', object_type: 'table', statement: revoke })]);
  });

  it('any ALTER TABLE of audit_log itself writes one (disabling its triggers is the first step of tampering)', async () => {
    const disable = 'alter table public.audit_log disable trigger audit_log_no_update_delete';
    const enable = 'alter table public.audit_log enable trigger audit_log_no_update_delete';
    assert.deepEqual(withoutSeq(await audited(`${disable}; ${enable}`)), [
      row({ command: 'ALTER TABLE', table: 'public.audit_log', statement: `${disable}; ${enable}` }),
      row({ command: 'ALTER TABLE', table: 'public.audit_log', statement: `${disable}; ${enable}` }),
    ]);
  });

  it('tables outside schema public are not watched', async () => {
    assert.deepEqual(
      await audited(`create schema scratch; create table scratch.t (id int); alter table scratch.t enable row level security;
                     alter table scratch.t disable row level security;`),
      [],
    );
    // ...but their policies are: policy changes are audited wherever they happen.
    assert.deepEqual(withoutSeq(await audited('create policy s on scratch.t using (true)')), [row({ command: 'CREATE POLICY', policy: 's on scratch.t' })]);
  });

  it('a policy change that is rolled back leaves no audit row either', async () => {
    const t = ctx();
    const last = await t.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from public.audit_log'));
    const inside = await rolledBack<number>(
      t.owner.transaction(async (tx) => {
        await tx.exec(`create policy doomed on ${TABLE} using (true)`);
        const n = await tx.query<{ n: number }>('select count(*)::int as n from public.audit_log');
        throw new RolledBack(n.rows[0]?.n);
      }),
    );
    assert.equal(inside, (last.rows[0]?.n ?? 0) + 1, 'written inside the transaction');
    const now = await t.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from public.audit_log'));
    assert.equal(now.rows[0]?.n, last.rows[0]?.n);
  });

  it('DROP TABLE removes its policies without an auth_policy row (a known limit)', async () => {
    await audited(`create policy gone_with_table on ${TABLE} using (true)`);
    assert.deepEqual(await audited(`drop table ${TABLE}`), []);
  });

  it('the auth_policy rows extend the tenant-less hash chain, which still verifies', async () => {
    const res = await ctx().owner.transaction(async (tx) => {
      const chain = await tx.query<{ chain_seq: number; n: number }>(
        `select max(chain_seq) as chain_seq, count(*)::int as n from public.audit_log where tenant_id is null`,
      );
      const broken = await tx.query('select * from steward.audit_verify()');
      return { chain: chain.rows[0], broken: broken.rows };
    });
    assert.ok((res.chain?.n ?? 0) > 10, 'the migrations and this file wrote auth_policy rows');
    assert.equal(res.chain?.chain_seq, res.chain?.n, 'positions 1..n without gaps');
    assert.deepEqual(res.broken, []);
  });

  it('the migrations themselves recorded their policies, and event triggers are installed', async () => {
    const res = await ctx().owner.transaction(async (tx) => {
      const created = await tx.query<{ policy: string }>(
        `select payload ->> 'policy' as policy from public.audit_log
          where category = 'auth_policy' and payload ->> 'command' = 'CREATE POLICY'
            and payload ->> 'policy' like '% on public.guardrails' order by id`,
      );
      const triggers = await tx.query<{ evtname: string; evtevent: string; evtenabled: string }>(
        `select evtname, evtevent, evtenabled from pg_event_trigger where evtname like 'steward\\_%' order by evtname`,
      );
      const unavailable = await tx.query(`select 1 from public.audit_log where payload ->> 'event' = 'policy_audit_unavailable'`);
      return { created: created.rows.map((r) => r.policy), triggers: triggers.rows, unavailable: unavailable.rows.length };
    });
    assert.deepEqual(res.created, [
      'tenant_isolation on public.guardrails',
      'service_role_full_access on public.guardrails',
      'guardrails_update_requires_scope on public.guardrails',
    ]);
    assert.deepEqual(res.triggers, [
      { evtname: 'steward_audit_policy_change', evtevent: 'ddl_command_end', evtenabled: 'O' },
      { evtname: 'steward_audit_policy_drop', evtevent: 'sql_drop', evtenabled: 'O' },
    ]);
    assert.equal(res.unavailable, 0);
  });
});
