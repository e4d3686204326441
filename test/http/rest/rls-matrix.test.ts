import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Queryable } from '../../../src/db/types.ts';
import type { TestDatabase } from '../../support/engines.ts';
import { forEachApi } from '../../support/api.ts';

// The RLS matrix of test/db/rls-matrix.test.ts, repeated over REST with real tokens:
// every table × caller × verb, each cell with the outcome the foundation's matrix gives
// it in SQL, as PostgREST answers it (a privilege refusal is 401 for anon and 403 for a
// token; a policy refusal 403). Every cell runs with `Prefer: tx=rollback`, so none sees
// another's effects; what a write changed is read from its representation (RETURNING),
// and the owner checks afterwards that the table is as the fixture left it. A token
// without a tenant is refused before the database (401 PGRST303), unlike in SQL where it
// sees nothing. The last tests make real, committed attempts on tenant A's rows.

const TENANT = {
  A: 'aaaaaaaa-0000-4000-8000-000000000001',
  B: 'bbbbbbbb-0000-4000-8000-000000000002',
  C: 'cccccccc-0000-4000-8000-000000000003',
  D: 'dddddddd-0000-4000-8000-000000000004',
} as const;
type Label = keyof typeof TENANT | 'null';

function label(tenant: string | null): string {
  if (tenant === null) return 'null';
  return (Object.keys(TENANT) as (keyof typeof TENANT)[]).find((k) => TENANT[k] === tenant) ?? tenant;
}

const ACTORS = ['anon', 'tenant_a', 'tenant_b', 'no_tenant', 'service_role'] as const;
type Actor = (typeof ACTORS)[number];
const VERBS = ['select', 'insert', 'update', 'delete'] as const;
type Verb = (typeof VERBS)[number];

type Outcome = { rows: Label[] } | 'no_rows' | 'denied' | 'rls_violation' | 'fk_restricted' | 'no_token';
type Row = readonly [Outcome, Outcome, Outcome, Outcome];
const rows = (...labels: Label[]): Outcome => ({ rows: labels });
const ANON_NOTHING: Row = ['denied', 'denied', 'denied', 'denied'];
const NO_TOKEN: Row = ['no_token', 'no_token', 'no_token', 'no_token'];

const READ_ONLY_FOR_TENANTS: Record<Actor, Row> = {
  anon: ANON_NOTHING,
  tenant_a: [rows('A'), 'denied', 'denied', 'denied'],
  tenant_b: [rows('B'), 'denied', 'denied', 'denied'],
  no_tenant: NO_TOKEN,
  service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
};

const TENANT_WRITABLE: Record<Actor, Row> = {
  anon: ANON_NOTHING,
  tenant_a: [rows('A'), rows('A'), rows('A'), 'denied'],
  tenant_b: [rows('B'), 'rls_violation', rows('B'), 'denied'],
  no_tenant: NO_TOKEN,
  service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
};

/** The foundation's matrix (test/db/rls-matrix.test.ts), cell for cell, for the tables of the REST surface. */
const MATRIX: Record<string, Record<Actor, Row>> = {
  tenants: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), 'denied', 'denied', 'denied'],
    tenant_b: [rows('B'), 'denied', 'denied', 'denied'],
    no_tenant: NO_TOKEN,
    service_role: [rows('A', 'B', 'C'), rows('D'), rows('A', 'B', 'C'), 'fk_restricted'],
  },
  objectives: TENANT_WRITABLE,
  guardrails: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), 'denied', 'no_rows', 'denied'],
    tenant_b: [rows('B'), 'denied', 'no_rows', 'denied'],
    no_tenant: NO_TOKEN,
    service_role: [rows('A', 'B'), rows('C'), rows('A', 'B'), rows('A', 'B')],
  },
  connected_accounts: TENANT_WRITABLE,
  tool_catalog: READ_ONLY_FOR_TENANTS,
  outbox: READ_ONLY_FOR_TENANTS,
  outbox_dlq: READ_ONLY_FOR_TENANTS,
  audit_log: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), 'denied', 'denied', 'denied'],
    tenant_b: [rows('B'), 'denied', 'denied', 'denied'],
    no_tenant: NO_TOKEN,
    service_role: [rows('A', 'B', 'null'), rows('A'), 'denied', 'denied'],
  },
  evidence_embeddings: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), 'rls_violation', 'denied', 'denied'],
    tenant_b: [rows('B'), 'rls_violation', 'denied', 'denied'],
    no_tenant: NO_TOKEN,
    service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
  },
  catalog_audit: READ_ONLY_FOR_TENANTS,
  tool_risk_overrides: {
    anon: ANON_NOTHING,
    tenant_a: [rows('A'), 'rls_violation', 'no_rows', 'denied'],
    tenant_b: [rows('B'), 'rls_violation', 'no_rows', 'denied'],
    no_tenant: NO_TOKEN,
    service_role: [rows('A', 'B'), rows('A'), rows('A', 'B'), rows('A', 'B')],
  },
  rate_buckets: READ_ONLY_FOR_TENANTS,
  trust_suggestions: READ_ONLY_FOR_TENANTS,
};

interface RestSpec {
  tenantColumn: string;
  /** The JSON row an insert sends for a tenant. */
  insert: (tenant: string) => Record<string, unknown>;
  insertFor: Label;
  /** A change to every row reachable (no filter). */
  set: Record<string, unknown>;
}

const SPECS: Record<string, RestSpec> = {
  tenants: { tenantColumn: 'id', insert: (t) => ({ id: t, name: 'Delta' }), insertFor: 'D', set: { plan: 'changed' } },
  objectives: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, title: 'New objective', metric: 'nps' }), insertFor: 'A', set: { title: 'changed' } },
  guardrails: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t }), insertFor: 'C', set: { trust_threshold: 0.5 } },
  connected_accounts: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, provider: 'GMAIL' }), insertFor: 'A', set: { status: 'revoked' } },
  tool_catalog: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, tool_slug: 'GMAIL__drafts.create' }), insertFor: 'A', set: { display_name: 'changed' } },
  outbox: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, tool_slug: 'GMAIL__drafts.create', arguments: {} }), insertFor: 'A', set: { last_error: 'changed' } },
  outbox_dlq: { tenantColumn: 'tenant_id', insert: (t) => ({ id: '00000000-0000-4000-8000-0000000000d9', tenant_id: t, tool_slug: 'GMAIL__drafts.create', arguments: {}, external_id: 'dlq-new' }), insertFor: 'A', set: { last_error: 'changed' } },
  audit_log: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, category: 'test' }), insertFor: 'A', set: { actor_id: 'changed' } },
  evidence_embeddings: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, source_type: 'note', content: 'new evidence' }), insertFor: 'A', set: { content: 'changed' } },
  catalog_audit: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, tool_slug: 'GMAIL__drafts.create', change: 'added' }), insertFor: 'A', set: { breaking: true } },
  tool_risk_overrides: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, tool_slug: 'GMAIL__drafts.create', risk: 'high' }), insertFor: 'A', set: { risk: 'high' } },
  rate_buckets: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, bucket: 'new', capacity: 1, refill_per_second: 1, tokens: 1, refilled_at: '2025-01-01T00:00:00Z' }), insertFor: 'A', set: { tokens: 0 } },
  trust_suggestions: { tenantColumn: 'tenant_id', insert: (t) => ({ tenant_id: t, envelope_id: '00000000-0000-4000-8000-0000000000e9', tool_slug: 'GMAIL__send', embedding_model: 'm', adjustment: 0.1 }), insertFor: 'A', set: { review_note: 'changed' } },
};

const TABLES = Object.keys(MATRIX);

const FIXTURE = (['A', 'B'] as const).map((t) => {
  const id = TENANT[t];
  const n = t === 'A' ? 1 : 2;
  return `
    insert into public.objectives (tenant_id, title, metric) values ('${id}', 'Objective ${t}', 'renewal_rate');
    insert into public.guardrails (tenant_id, quiet_hours, trust_threshold, scopes) values ('${id}', '{"start": 22, "end": 6}', 0.8, '{"allowed": ["SLACK"]}');
    insert into public.connected_accounts (tenant_id, provider, status) values ('${id}', 'SLACK', 'active');
    insert into public.tool_catalog (tenant_id, tool_slug, risk) values ('${id}', 'SLACK__chat.postMessage', 'low');
    insert into public.outbox (tenant_id, tool_slug, arguments) values ('${id}', 'SLACK__chat.postMessage', '{"channel": "#${t}"}');
    insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, last_error)
      values ('0000000${n}-0000-4000-8000-00000000d1a0', '${id}', 'SLACK__chat.postMessage', '{}', 'dlq-${t}', 'boom');
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload) values ('${id}', 'agent', 'seed', 'guardrail', '{"tenant": "${t}"}');
    insert into public.evidence_embeddings (tenant_id, source_type, content) values ('${id}', 'note', 'Evidence of ${t}');
    insert into public.catalog_audit (tenant_id, tool_slug, change) values ('${id}', 'SLACK__chat.postMessage', 'added');
    insert into public.tool_risk_overrides (tenant_id, tool_slug, risk) values ('${id}', 'SLACK__chat.postMessage', 'low');
    insert into public.rate_buckets (tenant_id, bucket, capacity, refill_per_second, tokens, refilled_at) values ('${id}', 'composio.catalog', 10, 1, 10, now());
    insert into public.trust_suggestions (tenant_id, envelope_id, tool_slug, embedding_model, adjustment)
      values ('${id}', '0000000${n}-0000-4000-8000-00000000e5e5', 'SLACK__chat.postMessage', 'm', 0.05);`;
}).join('\n');

async function arrange(test: TestDatabase): Promise<void> {
  await test.owner.transaction(async (tx) => {
    await tx.query(`insert into public.tenants (id, name) values ($1, 'Tenant A'), ($2, 'Tenant B'), ($3, 'Tenant C')`, [TENANT.A, TENANT.B, TENANT.C]);
    await tx.exec(FIXTURE);
  });
}

type Snapshot = Map<string, string[]>;

async function snapshot(q: Queryable, table: string): Promise<Snapshot> {
  const res = await q.query<{ tenant: string | null; row: string }>(`select ${SPECS[table]!.tenantColumn}::text as tenant, to_jsonb(t)::text as row from public.${table} t order by 2`);
  const snap: Snapshot = new Map();
  for (const r of res.rows) snap.set(label(r.tenant), [...(snap.get(label(r.tenant)) ?? []), r.row]);
  return snap;
}

forEachApi('RLS matrix over REST', (api) => {
  const keys = new Map<Actor, Record<string, string>>();
  const baseline = new Map<string, Snapshot>();

  before(async () => {
    keys.set('anon', { apikey: api().keys.anonKey });
    keys.set('service_role', { apikey: api().keys.serviceRoleKey });
    keys.set('tenant_a', { apikey: api().keys.anonKey, Authorization: `Bearer ${await api().token({ role: 'authenticated', tenantId: TENANT.A, sub: 'user-a' })}` });
    keys.set('tenant_b', { apikey: api().keys.anonKey, Authorization: `Bearer ${await api().token({ role: 'authenticated', tenantId: TENANT.B, sub: 'user-b' })}` });
    keys.set('no_tenant', { apikey: api().keys.anonKey, Authorization: `Bearer ${await api().token({ role: 'authenticated', sub: 'user-c' })}` });
    await api().test.owner.transaction(async (tx) => {
      for (const table of TABLES) baseline.set(table, await snapshot(tx, table));
    });
  });

  it('covers every table the REST surface exposes, each with rows of A and B', async () => {
    const catalog = await api().server.catalog.get();
    assert.deepEqual([...catalog.tables.keys()].sort(), [...TABLES].sort(), 'a new table needs its row in MATRIX and SPECS');
    for (const table of TABLES) {
      if (table === 'tenants') continue;
      // (audit_log also holds the rows tool_risk_overrides' trigger wrote for the fixture.)
      assert.ok((baseline.get(table)?.get('A')?.length ?? 0) >= 1, `${table}: A`);
      assert.ok((baseline.get(table)?.get('B')?.length ?? 0) >= 1, `${table}: B`);
    }
  });

  async function request(actor: Actor, table: string, verb: Verb): Promise<Response> {
    const spec = SPECS[table]!;
    const url = `${api().rest}/${table}?select=tenant:${spec.tenantColumn}`;
    const headers = { ...keys.get(actor), 'Content-Type': 'application/json', Prefer: 'return=representation, tx=rollback' };
    switch (verb) {
      case 'select': return fetch(url, { headers });
      case 'insert': {
        const target = spec.insertFor;
        if (target === 'null') throw new Error('inserts target a tenant');
        return fetch(url, { method: 'POST', headers, body: JSON.stringify(spec.insert(TENANT[target])) });
      }
      case 'update': return fetch(url, { method: 'PATCH', headers, body: JSON.stringify(spec.set) });
      case 'delete': return fetch(url, { method: 'DELETE', headers });
    }
  }

  for (const table of TABLES) {
    describe(table, () => {
      for (const actor of ACTORS) {
        VERBS.forEach((verb, i) => {
          const expected = MATRIX[table]![actor][i]!;
          const describeOutcome = typeof expected === 'string' ? expected : `rows ${expected.rows.join(', ')}`;
          it(`${actor} ${verb} → ${describeOutcome}`, async () => {
            const res = await request(actor, table, verb);
            const body: unknown = await res.json();
            const before = baseline.get(table)!;
            if (typeof expected === 'object' || expected === 'no_rows') {
              assert.ok(res.status < 300, `${res.status} ${JSON.stringify(body)}`);
              const labels = (body as { tenant: string | null }[]).map((r) => label(r.tenant));
              const want = expected === 'no_rows' ? [] : [...expected.rows].sort();
              assert.deepEqual([...new Set(labels)].sort(), want, 'tenants reached');
              if (verb === 'select') for (const l of want) assert.equal(labels.filter((x) => x === l).length, before.get(l)?.length, `rows of ${l}`);
            } else {
              const error = body as { code: string; message: string };
              switch (expected) {
                case 'no_token':
                  assert.deepEqual([res.status, error.code], [401, 'PGRST303']);
                  break;
                case 'denied':
                  assert.deepEqual([res.status, error.code], [actor === 'anon' ? 401 : 403, '42501']);
                  assert.match(error.message, /^permission denied for table /);
                  break;
                case 'rls_violation':
                  assert.deepEqual([res.status, error.code], [403, '42501']);
                  assert.match(error.message, /^new row violates row-level security policy/);
                  break;
                case 'fk_restricted':
                  // 23503 on PostgreSQL ≤ 17 (409, as PostgREST maps it); 23001 on 18 / PGlite (400).
                  assert.ok((res.status === 409 && error.code === '23503') || (res.status === 400 && error.code === '23001'), JSON.stringify([res.status, body]));
                  break;
              }
            }
            // The invariant behind the whole matrix: a tenant never reaches another tenant's rows.
            if (res.status < 300 && (actor === 'tenant_a' || actor === 'tenant_b')) {
              const self = actor === 'tenant_a' ? 'A' : 'B';
              assert.deepEqual((body as { tenant: string }[]).map((r) => label(r.tenant)).filter((l) => l !== self), [], `${actor} reached another tenant's rows`);
            }
            const afterwards = await api().test.owner.transaction((tx) => snapshot(tx, table));
            assert.deepEqual(afterwards, before, 'rolled back: the table is as the fixture left it');
          });
        });
      }
    });
  }

  describe('committed attempts by tenant B on tenant A\'s rows change nothing of A\'s', () => {
    it('update, delete and insert aimed at A, and approving A\'s envelope', async () => {
      const before = await api().test.owner.transaction(async (tx) => Promise.all(TABLES.map((table) => snapshot(tx, table))));
      const b = await api().tenant(TENANT.B);
      const objectiveOfA = (await api().sqlJson('service', `select id from public.objectives where tenant_id = $1`, [TENANT.A]) as { id: string }[])[0]!.id;
      const envelopeOfA = (await api().sqlJson('service', `select id from public.outbox where tenant_id = $1`, [TENANT.A]) as { id: string }[])[0]!.id;
      assert.deepEqual((await b.from('objectives').update({ title: 'hijacked' }).eq('id', objectiveOfA).select()).data, []);
      assert.deepEqual((await b.from('objectives').update({ title: 'hijacked' }).eq('tenant_id', TENANT.A).select()).data, []);
      assert.equal((await b.from('objectives').delete().eq('id', objectiveOfA)).status, 403);
      assert.equal((await b.from('objectives').insert({ tenant_id: TENANT.A, title: 'planted', metric: 'm' })).status, 403);
      assert.equal((await b.from('connected_accounts').upsert({ tenant_id: TENANT.A, provider: 'X' })).status, 403);
      assert.deepEqual((await b.from('guardrails').update({ trust_threshold: 0 }).eq('tenant_id', TENANT.A).select()).data, []);
      assert.equal((await b.rpc('approve_envelope', { p_envelope: envelopeOfA })).status, 404);
      const anon = api().anon();
      assert.equal((await anon.from('objectives').update({ title: 'hijacked' }).eq('id', objectiveOfA)).status, 401);
      const after = await api().test.owner.transaction(async (tx) => Promise.all(TABLES.map((table) => snapshot(tx, table))));
      TABLES.forEach((table, i) => assert.deepEqual(after[i]!.get('A'), before[i]!.get('A'), `${table}: A's rows`));
    });
  });
}, { arrange });
