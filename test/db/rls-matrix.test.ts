import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import type { Queryable, Transaction } from '../../src/db/types.ts';
import { forEachEngine, type TestDatabase } from '../support/engines.ts';
import { classifyRefusal, refusedWith, RolledBack, rolledBack, type Refusal } from './rls-outcome.ts';

// The RLS matrix: every table × every kind of caller × every verb, each cell with the
// outcome it must have. The MATRIX below is the specification (it is the table in
// docs/governance/security-and-guardrails.md); the runner only executes it.
//
// Fixtures: tenants A, B and C (C has no other rows); one row per table for A and one
// for B, written by the owner. Every cell runs in its own transaction that is always
// rolled back, so cells never see each other's effects. Writes aim at tenant A's rows:
// inserts add a row for A (for B that is an attack on A), updates and deletes have no
// WHERE clause (they reach whatever the caller's policies let them reach).

const TENANT = {
  A: 'aaaaaaaa-0000-4000-8000-000000000001',
  B: 'bbbbbbbb-0000-4000-8000-000000000002',
  C: 'cccccccc-0000-4000-8000-000000000003',
  D: 'dddddddd-0000-4000-8000-000000000004',
} as const;
/** A tenant (A, B, C, or D = the tenant a tenants insert creates), or null for audit rows without one. */
type Label = keyof typeof TENANT | 'null';

function label(tenant: string | null): string {
  if (tenant === null) return 'null';
  const found = (Object.keys(TENANT) as (keyof typeof TENANT)[]).find((k) => TENANT[k] === tenant);
  return found ?? tenant; // an unknown tenant shows up as itself and fails any comparison
}

const TABLES = [
  'tenants', 'objectives', 'guardrails', 'connected_accounts', 'tool_catalog',
  'outbox', 'outbox_dlq', 'audit_log', 'evidence_embeddings', 'catalog_audit',
  'tool_risk_overrides', 'rate_buckets', 'trust_suggestions',
] as const;
type Table = (typeof TABLES)[number];

const ACTORS = ['anon', 'tenant_a', 'tenant_b', 'no_tenant', 'service_role'] as const;
type Actor = (typeof ACTORS)[number];

const VERBS = ['select', 'insert', 'update', 'delete'] as const;
type Verb = (typeof VERBS)[number];

/**
 * A cell's outcome: the statement succeeds and returns (select) or changes (insert,
 * update, delete) exactly the rows of these tenants; succeeds with no rows; or is refused.
 */
type Outcome = { rows: Label[] } | 'no_rows' | Refusal;

const rows = (...labels: Label[]): Outcome => ({ rows: labels });
const DENIED = 'denied';
const RLS = 'rls_violation';
const NO_ROWS = 'no_rows';

/** Each actor: [select, insert, update, delete]. */
type Row = readonly [Outcome, Outcome, Outcome, Outcome];
const ANON_NOTHING: Row = [DENIED, DENIED, DENIED, DENIED];

// Tenant-readable, service-written tables (tool_catalog, outbox, outbox_dlq, catalog_audit).
const READ_ONLY_FOR_TENANTS: Record<Actor, Row> = {
  anon: ANON_NOTHING,
  tenant_a: [rows('A'), DENIED, DENIED, DENIED],
  tenant_b: [rows('B'), DENIED, DENIED, DENIED],
  no_tenant: [NO_ROWS, DENIED, DENIED, DENIED],
  service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
};

// Tables tenants write themselves (objectives, connected_accounts): insert and update
// their own rows, never delete.
const TENANT_WRITABLE: Record<Actor, Row> = {
  anon: ANON_NOTHING,
  tenant_a: [rows('A'), rows('A'), rows('A'), DENIED],
  tenant_b: [rows('B'), RLS, rows('B'), DENIED],
  no_tenant: [NO_ROWS, RLS, NO_ROWS, DENIED],
  service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
};

/** THE SPEC. */
const MATRIX: Record<Table, Record<Actor, Row>> = {
  tenants: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), DENIED, DENIED, DENIED],
    tenant_b: [rows('B'), DENIED, DENIED, DENIED],
    no_tenant: [NO_ROWS, DENIED, DENIED, DENIED],
    // insert creates tenant D; delete is blocked because A and B have audit rows
    // (audit_log.tenant_id is ON DELETE RESTRICT: history outlives its tenant).
    service_role: [rows('A', 'B', 'C'), rows('D'), rows('A', 'B', 'C'), 'fk_restricted'],
  },
  objectives: TENANT_WRITABLE,
  guardrails: {
    anon: ANON_NOTHING,
    // Update is granted, but the restrictive policy wants scope guardrails:write, which
    // these tokens lack: their rows are filtered out, 0 rows change, no error
    // (test/db/evidence-scopes.test.ts has the tokens that carry it).
    tenant_a: [rows('A'), DENIED, NO_ROWS, DENIED],
    tenant_b: [rows('B'), DENIED, NO_ROWS, DENIED],
    no_tenant: [NO_ROWS, DENIED, NO_ROWS, DENIED],
    // one guardrails row per tenant: the insert is for C, which has none
    service_role: [rows('A', 'B'), rows('C'), rows('A', 'B'), rows('A', 'B')],
  },
  connected_accounts: TENANT_WRITABLE,
  tool_catalog: READ_ONLY_FOR_TENANTS,
  outbox: READ_ONLY_FOR_TENANTS,
  outbox_dlq: READ_ONLY_FOR_TENANTS,
  audit_log: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), DENIED, DENIED, DENIED],
    tenant_b: [rows('B'), DENIED, DENIED, DENIED],
    no_tenant: [NO_ROWS, DENIED, DENIED, DENIED],
    // Sees the tenant-less chain too (the auth_policy rows the migrations wrote).
    // UPDATE/DELETE are revoked from service_role, so the privilege check refuses them
    // before the append-only trigger would (the owner meets the trigger: see below).
    service_role: [rows('A', 'B', 'null'), rows('A'), DENIED, DENIED],
  },
  evidence_embeddings: {
    anon: ANON_NOTHING,
    // Insert is granted but gated on the tenant's evidence_insert_scopes, empty here.
    tenant_a: [rows('A'), RLS, DENIED, DENIED],
    tenant_b: [rows('B'), RLS, DENIED, DENIED],
    no_tenant: [NO_ROWS, RLS, DENIED, DENIED],
    service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
  },
  catalog_audit: READ_ONLY_FOR_TENANTS,
  tool_risk_overrides: {
    anon: ANON_NOTHING,
    // Insert and update are granted, but restrictive policies want scope guardrails:write,
    // which these tokens lack: the insert is refused, the update reaches no row
    // (test/integrations/composio/catalog-sync.test.ts has a token that carries it).
    tenant_a: [rows('A'), RLS, NO_ROWS, DENIED],
    tenant_b: [rows('B'), RLS, NO_ROWS, DENIED],
    no_tenant: [NO_ROWS, RLS, NO_ROWS, DENIED],
    service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
  },
  rate_buckets: READ_ONLY_FOR_TENANTS,
  trust_suggestions: READ_ONLY_FOR_TENANTS,
};

interface TableSpec {
  /** The column naming a row's tenant. */
  tenantColumn: string;
  /** Inserts one row for tenant $1. */
  insert: string;
  /** The tenant inserted for (A, unless a row for A cannot be added). */
  insertFor: Label;
  /** Sets a value that differs from every fixture row's, on every row reachable. */
  set: string;
}

const SPECS: Record<Table, TableSpec> = {
  tenants: { tenantColumn: 'id', insert: `insert into public.tenants (id, name) values ($1, 'Delta')`, insertFor: 'D', set: `plan = 'changed'` },
  objectives: { tenantColumn: 'tenant_id', insert: `insert into public.objectives (tenant_id, title, metric) values ($1, 'New objective', 'nps')`, insertFor: 'A', set: `title = 'changed'` },
  guardrails: { tenantColumn: 'tenant_id', insert: `insert into public.guardrails (tenant_id) values ($1)`, insertFor: 'C', set: 'trust_threshold = 0.5' },
  connected_accounts: { tenantColumn: 'tenant_id', insert: `insert into public.connected_accounts (tenant_id, provider) values ($1, 'GMAIL')`, insertFor: 'A', set: `status = 'revoked'` },
  tool_catalog: { tenantColumn: 'tenant_id', insert: `insert into public.tool_catalog (tenant_id, tool_slug) values ($1, 'GMAIL__drafts.create')`, insertFor: 'A', set: `display_name = 'changed'` },
  outbox: { tenantColumn: 'tenant_id', insert: `insert into public.outbox (tenant_id, tool_slug, arguments) values ($1, 'GMAIL__drafts.create', '{}')`, insertFor: 'A', set: `last_error = 'changed'` },
  outbox_dlq: { tenantColumn: 'tenant_id', insert: `insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, external_id) values (gen_random_uuid(), $1, 'GMAIL__drafts.create', '{}', 'dlq-new')`, insertFor: 'A', set: `last_error = 'changed'` },
  audit_log: { tenantColumn: 'tenant_id', insert: `insert into public.audit_log (tenant_id, category) values ($1, 'test')`, insertFor: 'A', set: `actor_id = 'changed'` },
  evidence_embeddings: { tenantColumn: 'tenant_id', insert: `insert into public.evidence_embeddings (tenant_id, source_type, content) values ($1, 'note', 'new evidence')`, insertFor: 'A', set: `content = 'changed'` },
  catalog_audit: { tenantColumn: 'tenant_id', insert: `insert into public.catalog_audit (tenant_id, tool_slug, change) values ($1, 'GMAIL__drafts.create', 'added')`, insertFor: 'A', set: 'breaking = true' },
  tool_risk_overrides: { tenantColumn: 'tenant_id', insert: `insert into public.tool_risk_overrides (tenant_id, tool_slug, risk) values ($1, 'GMAIL__drafts.create', 'high')`, insertFor: 'A', set: `risk = 'high'` },
  rate_buckets: { tenantColumn: 'tenant_id', insert: `insert into public.rate_buckets (tenant_id, bucket, capacity, refill_per_second, tokens, refilled_at) values ($1, 'new', 1, 1, 1, now())`, insertFor: 'A', set: 'tokens = 0' },
  trust_suggestions: { tenantColumn: 'tenant_id', insert: `insert into public.trust_suggestions (tenant_id, envelope_id, tool_slug, embedding_model, adjustment) values ($1, gen_random_uuid(), 'GMAIL__drafts.create', 'm', 0)`, insertFor: 'A', set: `review_note = 'changed'` },
};

// Writes have no RETURNING: RETURNING applies the SELECT policies to the new rows as
// well, and would refuse a cross-tenant insert even if the WITH CHECK were broken. What
// a write did is read from the owner's snapshot instead.
function statement(table: Table, verb: Verb): { sql: string; params: unknown[] } {
  const spec = SPECS[table];
  switch (verb) {
    case 'select':
      return { sql: `select ${spec.tenantColumn}::text as tenant from public.${table}`, params: [] };
    case 'insert': {
      const target = spec.insertFor;
      if (target === 'null') throw new Error('inserts target a tenant');
      return { sql: spec.insert, params: [TENANT[target]] };
    }
    case 'update':
      return { sql: `update public.${table} set ${spec.set}`, params: [] };
    case 'delete':
      return { sql: `delete from public.${table}`, params: [] };
  }
}

// One row per table for A and one for B (guardrails for A and B only; C stays bare).
const FIXTURE = (['A', 'B'] as const)
  .map((t) => {
    const id = TENANT[t];
    const n = t === 'A' ? 1 : 2;
    return `
      insert into public.objectives (tenant_id, title, metric) values ('${id}', 'Objective ${t}', 'renewal_rate');
      insert into public.guardrails (tenant_id, quiet_hours, trust_threshold, scopes)
        values ('${id}', '{"start": 22, "end": 6}', 0.8, '{"allowed": ["SLACK"]}');
      insert into public.connected_accounts (tenant_id, provider, status) values ('${id}', 'SLACK', 'active');
      insert into public.tool_catalog (tenant_id, tool_slug, risk) values ('${id}', 'SLACK__chat.postMessage', 'low');
      insert into public.outbox (tenant_id, tool_slug, arguments) values ('${id}', 'SLACK__chat.postMessage', '{"channel": "#${t}"}');
      insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, last_error)
        values ('0000000${n}-0000-4000-8000-00000000d1a0', '${id}', 'SLACK__chat.postMessage', '{}', 'dlq-${t}', 'boom');
      insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
        values ('${id}', 'agent', 'seed', 'guardrail', '{"tenant": "${t}"}');
      insert into public.evidence_embeddings (tenant_id, source_type, content) values ('${id}', 'note', 'Evidence of ${t}');
      insert into public.catalog_audit (tenant_id, tool_slug, change) values ('${id}', 'SLACK__chat.postMessage', 'added');
      -- Without its trigger, which audits the override: audit_log's fixture is one row per tenant.
      alter table public.tool_risk_overrides disable trigger tool_risk_overrides_apply;
      insert into public.tool_risk_overrides (tenant_id, tool_slug, risk) values ('${id}', 'SLACK__chat.postMessage', 'low');
      alter table public.tool_risk_overrides enable trigger tool_risk_overrides_apply;
      insert into public.rate_buckets (tenant_id, bucket, capacity, refill_per_second, tokens, refilled_at)
        values ('${id}', 'composio.catalog', 10, 1, 10, now());
      insert into public.trust_suggestions (tenant_id, envelope_id, tool_slug, embedding_model, adjustment)
        values ('${id}', gen_random_uuid(), 'SLACK__chat.postMessage', 'm', -0.05);`;
  })
  .join('\n');

/** Every row of a table, as the owner sees it: tenant label → the rows' JSON, sorted. */
type Snapshot = Map<string, string[]>;

async function snapshot(q: Queryable, table: Table): Promise<Snapshot> {
  const col = SPECS[table].tenantColumn;
  const res = await q.query<{ tenant: string | null; row: string }>(
    `select ${col}::text as tenant, to_jsonb(t)::text as row from public.${table} t order by 2`,
  );
  const snap: Snapshot = new Map();
  for (const r of res.rows) {
    const key = label(r.tenant);
    snap.set(key, [...(snap.get(key) ?? []), r.row]);
  }
  return snap;
}

/** The tenants whose rows differ between two snapshots, sorted. */
function changedTenants(before: Snapshot, after: Snapshot): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => JSON.stringify(before.get(k) ?? []) !== JSON.stringify(after.get(k) ?? [])).sort();
}

function as(db: Database, actor: Actor, fn: (tx: Transaction) => Promise<unknown>): Promise<unknown> {
  switch (actor) {
    case 'anon':
      return db.asTenant({ role: 'anon' }, fn);
    case 'tenant_a':
      return db.asTenant({ tenant_id: TENANT.A, sub: '0a0a0a0a-0000-4000-8000-00000000000a' }, fn);
    case 'tenant_b':
      return db.asTenant({ tenant_id: TENANT.B, sub: '0b0b0b0b-0000-4000-8000-00000000000b' }, fn);
    case 'no_tenant':
      return db.asTenant({ sub: '0c0c0c0c-0000-4000-8000-00000000000c' }, fn);
    case 'service_role':
      return db.asService(fn);
  }
}

type Observed =
  | { kind: 'ok'; labels: string[]; rowCount: number; after: Snapshot }
  | { kind: 'refused'; refusal: Refusal; message: string };

/** Runs one cell in a transaction that is always rolled back. */
async function observe(test: TestDatabase, table: Table, actor: Actor, verb: Verb): Promise<Observed> {
  const { sql, params } = statement(table, verb);
  try {
    return await rolledBack<Observed>(
      as(test.db, actor, async (tx) => {
        const res = await tx.query<{ tenant: string | null }>(sql, params);
        const labels = res.rows.map((r) => label(r.tenant));
        const rowCount = verb === 'select' ? res.rows.length : res.rowCount;
        // Back to the session's own role (the owner) inside the same transaction, to see
        // what the statement really changed before it is rolled back.
        await tx.query(`select set_config('role', 'none', true)`);
        const who = await tx.query<{ su: boolean }>(`select rolsuper as su from pg_roles where rolname = current_user`);
        assert.equal(who.rows[0]?.su, true, 'the check after the statement must run as the owner');
        throw new RolledBack<Observed>({ kind: 'ok', labels, rowCount, after: await snapshot(tx, table) });
      }),
    );
  } catch (error) {
    const { refusal, message } = classifyRefusal(error, table);
    return { kind: 'refused', refusal, message };
  }
}

function describeOutcome(o: Outcome): string {
  return typeof o === 'string' ? o : `rows ${o.rows.join(', ')}`;
}

forEachEngine('RLS matrix', (ctx) => {
  const baseline = new Map<Table, Snapshot>();

  before(async () => {
    const test = ctx();
    await test.owner.transaction(async (tx) => {
      await tx.query(`insert into public.tenants (id, name) values ($1, 'Tenant A'), ($2, 'Tenant B'), ($3, 'Tenant C')`, [TENANT.A, TENANT.B, TENANT.C]);
      await tx.exec(FIXTURE);
    });
    await test.owner.transaction(async (tx) => {
      for (const table of TABLES) baseline.set(table, await snapshot(tx, table));
    });
  });

  it('covers every table in schema public, each with row level security enabled', async () => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ name: string; rls: boolean }>(
        `select c.relname as name, c.relrowsecurity as rls from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
      ),
    );
    assert.deepEqual(res.rows.map((r) => r.name), [...TABLES].sort());
    assert.deepEqual(res.rows.filter((r) => !r.rls).map((r) => r.name), []);
  });

  it('grants exactly these table privileges to anon, authenticated and service_role', async () => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ grantee: string; table: string; privileges: string }>(
        `select r.rolname as grantee, c.relname as table, string_agg(a.privilege_type, ',' order by a.privilege_type) as privileges
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           cross join lateral aclexplode(c.relacl) a
           join pg_roles r on r.oid = a.grantee
          where n.nspname = 'public' and c.relkind = 'r'
            and r.rolname in ('anon', 'authenticated', 'service_role')
          group by 1, 2 order by 1, 2`,
      ),
    );
    const expected: { grantee: string; table: string; privileges: string }[] = [];
    for (const table of [...TABLES].sort()) expected.push({ grantee: 'authenticated', table, privileges: 'SELECT' });
    for (const table of [...TABLES].sort()) {
      expected.push({ grantee: 'service_role', table, privileges: table === 'audit_log' ? 'INSERT,SELECT' : 'DELETE,INSERT,SELECT,TRUNCATE,UPDATE' });
    }
    // Nothing at all for anon; for service_role no TRIGGER, REFERENCES or MAINTAIN.
    assert.deepEqual(res.rows, expected);
  });

  it('service_role cannot create triggers, which would run as whoever writes the table next', async () => {
    for (const table of TABLES) {
      const created = await rolledBack<boolean>(
        ctx().db.asService(async (tx) => {
          await tx.query(`create trigger steward_probe before insert on public.${table} for each row execute function steward.set_updated_at()`);
          throw new RolledBack(true);
        }),
      ).catch((error: unknown) => classifyRefusal(error, table));
      assert.deepEqual(created, { refusal: 'denied', message: `permission denied for table ${table}` }, table);
    }
  });

  it('grants exactly these column privileges (tenant writes), none of them on tenant_id updates', async () => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ grantee: string; table: string; privilege: string; columns: string }>(
        `select r.rolname as grantee, c.relname as table, a.privilege_type as privilege,
                string_agg(att.attname, ',' order by att.attnum) as columns
           from pg_attribute att
           join pg_class c on c.oid = att.attrelid
           join pg_namespace n on n.oid = c.relnamespace
           cross join lateral aclexplode(att.attacl) a
           join pg_roles r on r.oid = a.grantee
          where n.nspname = 'public' and r.rolname in ('anon', 'authenticated', 'service_role')
          group by 1, 2, 3 order by 1, 2, 3`,
      ),
    );
    assert.deepEqual(res.rows, [
      { grantee: 'authenticated', table: 'connected_accounts', privilege: 'INSERT', columns: 'tenant_id,provider,status,scopes,linked_at,metadata' },
      { grantee: 'authenticated', table: 'connected_accounts', privilege: 'UPDATE', columns: 'provider,status,scopes,linked_at,metadata' },
      { grantee: 'authenticated', table: 'evidence_embeddings', privilege: 'INSERT', columns: 'tenant_id,source_type,source_id,content,embedding,embedding_model,metadata' },
      { grantee: 'authenticated', table: 'guardrails', privilege: 'UPDATE', columns: 'quiet_hours,trust_threshold,scopes,require_evidence,evidence_insert_scopes' },
      { grantee: 'authenticated', table: 'objectives', privilege: 'INSERT', columns: 'tenant_id,title,metric,target,horizon,summary' },
      { grantee: 'authenticated', table: 'objectives', privilege: 'UPDATE', columns: 'title,metric,target,horizon,summary' },
      { grantee: 'authenticated', table: 'tool_risk_overrides', privilege: 'INSERT', columns: 'tenant_id,tool_slug,risk,reason' },
      { grantee: 'authenticated', table: 'tool_risk_overrides', privilege: 'UPDATE', columns: 'risk,reason' },
    ]);
  });

  it('has exactly these policies', async () => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ table: string; policy: string; kind: string; roles: string; cmd: string }>(
        `select tablename::text as table, policyname::text as policy, permissive::text as kind,
                array_to_string(roles, ',') as roles, cmd::text as cmd
           from pg_policies where schemaname = 'public' order by 1, 2`,
      ),
    );
    const expected: { table: string; policy: string; kind: string; roles: string; cmd: string }[] = [];
    for (const table of [...TABLES].sort()) {
      if (table === 'evidence_embeddings') expected.push({ table, policy: 'evidence_insert_requires_scopes', kind: 'RESTRICTIVE', roles: 'authenticated', cmd: 'INSERT' });
      if (table === 'guardrails') expected.push({ table, policy: 'guardrails_update_requires_scope', kind: 'RESTRICTIVE', roles: 'authenticated', cmd: 'UPDATE' });
      expected.push({ table, policy: 'service_role_full_access', kind: 'PERMISSIVE', roles: 'service_role', cmd: 'ALL' });
      expected.push({ table, policy: 'tenant_isolation', kind: 'PERMISSIVE', roles: 'authenticated', cmd: 'ALL' });
      if (table === 'tool_risk_overrides') {
        expected.push({ table, policy: 'tool_risk_overrides_insert_requires_scope', kind: 'RESTRICTIVE', roles: 'authenticated', cmd: 'INSERT' });
        expected.push({ table, policy: 'tool_risk_overrides_update_requires_scope', kind: 'RESTRICTIVE', roles: 'authenticated', cmd: 'UPDATE' });
      }
    }
    assert.deepEqual(res.rows, expected);
  });

  it('has the fixture it expects: one row for A and one for B in every table', () => {
    for (const table of TABLES) {
      const snap = baseline.get(table);
      assert.ok(snap);
      if (table === 'tenants') {
        assert.deepEqual([...snap.keys()].sort(), ['A', 'B', 'C']);
        continue;
      }
      assert.equal(snap.get('A')?.length, 1, `${table}: A`);
      assert.equal(snap.get('B')?.length, 1, `${table}: B`);
      assert.equal(snap.get('C'), undefined, `${table}: C`);
    }
  });

  for (const table of TABLES) {
    describe(table, () => {
      for (const actor of ACTORS) {
        VERBS.forEach((verb, i) => {
          const expected = MATRIX[table][actor][i];
          assert.ok(expected !== undefined);
          it(`${actor} ${verb} → ${describeOutcome(expected)}`, async () => {
            const test = ctx();
            const before = baseline.get(table);
            assert.ok(before);
            const observed = await observe(test, table, actor, verb);

            if (typeof expected === 'object' || expected === NO_ROWS) {
              const want = expected === NO_ROWS ? [] : [...expected.rows].sort();
              assert.equal(observed.kind, 'ok', observed.kind === 'refused' ? `expected ${describeOutcome(expected)}, refused: ${observed.message}` : '');
              assert.ok(observed.kind === 'ok');
              const changed = changedTenants(before, observed.after);
              if (verb === 'select') {
                assert.deepEqual([...new Set(observed.labels)].sort(), want, 'tenants visible');
                // Exactly the rows of each visible tenant, no more, no fewer.
                for (const t of want) {
                  const visible: number = observed.labels.filter((l) => l === t).length;
                  assert.equal(visible, before.get(t)?.length, `rows of ${t} visible`);
                }
                assert.deepEqual(changed, [], 'a select changes nothing');
              } else {
                assert.equal(observed.rowCount, want.length, `rows ${verb}d`);
                assert.deepEqual(changed, want, `tenants whose rows changed (seen by the owner)`);
              }
            } else {
              assert.equal(observed.kind, 'refused', `expected ${expected}, but it succeeded`);
              assert.ok(observed.kind === 'refused');
              assert.equal(observed.refusal, expected, observed.message);
            }

            // The invariant behind the whole matrix, asserted on its own: a tenant
            // never sees or touches another tenant's row.
            if (observed.kind === 'ok' && (actor === 'tenant_a' || actor === 'tenant_b')) {
              const self = actor === 'tenant_a' ? 'A' : 'B';
              assert.deepEqual(observed.labels.filter((l) => l !== self), [], `${actor} reached another tenant's rows`);
              assert.deepEqual(changedTenants(before, observed.after).filter((l) => l !== self), [], `${actor} changed another tenant's rows`);
            }

            // Rolled back: the table is as the fixture left it, whatever the cell did.
            const afterwards = await test.owner.transaction((tx) => snapshot(tx, table));
            assert.deepEqual(changedTenants(before, afterwards), [], 'the cell left no trace');
          });
        });
      }
    });
  }

  describe('audit_log for its owner (a superuser)', () => {
    for (const sql of [`update public.audit_log set actor_id = 'x'`, 'delete from public.audit_log', 'truncate public.audit_log']) {
      it(`${sql.split(' ')[0]} → refused_by_trigger`, async () => {
        const test = ctx();
        await refusedWith(test.owner.transaction((tx) => tx.query(sql)), 'audit_log', 'refused_by_trigger');
        const afterwards = await test.owner.transaction((tx) => snapshot(tx, 'audit_log'));
        assert.deepEqual(changedTenants(baseline.get('audit_log') ?? new Map<string, string[]>(), afterwards), []);
      });
    }
  });
});
