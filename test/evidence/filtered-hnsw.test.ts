import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { forEachEngine } from '../support/engines.ts';

// The filtered-HNSW trap (docs/implementation/evidence-and-search.md): 20 tenants share
// the index; an HNSW scan returns at most ef_search candidates and the tenant filter (RLS)
// then keeps ~5% of them, so a plain tenant-filtered top-10 comes back with ~2 rows.
// Steward's search turns iterative scans on and raises ef_search to the candidate count.
//
// 100,000 rows on both engines (the figure): loaded by SQL, then the index built
// once (~15 s on PostgreSQL, ~55 s on PGlite). Vectors are clustered (200 centres plus
// noise, unit length), closer to real embeddings than i.i.d. noise.

const ROWS = 100_000;
const TENANTS = 20;
const MODEL = 'filtered-hnsw-test';
const tenantId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

forEachEngine('tenant-filtered vector search', (ctx) => {
  const rows = ROWS;

  before(async () => {
    await ctx().owner.transaction(async (tx) => {
      await tx.query(`insert into public.tenants (id, name) select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'T' || i from generate_series(0, $1 - 1) i`, [TENANTS]);
      // Load without the index, then build it: one build instead of 100k index inserts.
      await tx.exec(`
        set local search_path = public, extensions;
        set local maintenance_work_mem = '512MB';
        select setseed(0.42);
        drop index public.evidence_embeddings_embedding_idx;
        create temp table centres on commit drop as
          select i, l2_normalize((select array_agg(random() - 0.5) from generate_series(1, 384) where i >= 0)::vector) as v
            from generate_series(0, 199) i;`);
      await tx.query(
        `insert into public.evidence_embeddings (tenant_id, source_type, source_id, content, embedding, embedding_model)
         select ('00000000-0000-4000-8000-' || lpad((g % $2)::text, 12, '0'))::uuid, 'tool_output', g::text, 'row ' || g,
                l2_normalize((select array_agg(x + 0.05 * (random() - 0.5)) from unnest(c.v::real[]) x)::vector), $3
           from generate_series(0, $1 - 1) g join centres c on c.i = (g * 7919) % 200`,
        [rows, TENANTS, MODEL],
      );
      await tx.exec('create index evidence_embeddings_embedding_idx on public.evidence_embeddings using hnsw (embedding vector_ip_ops); analyze public.evidence_embeddings;');
    });
  });

  /** A query vector near some rows of the data (a row's own vector, perturbed). */
  const queryVector = async (seedRow: number): Promise<string> => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ v: string }>(`select embedding::text as v from public.evidence_embeddings where source_id = $1`, [String(seedRow)]),
    );
    return res.rows[0]!.v;
  };

  const asTenant = <T>(t: number, fn: (tx: Transaction) => Promise<T>) => ctx().db.asTenant({ tenant_id: tenantId(t) }, fn);

  it('the trap is real here: the planner uses the HNSW index, and without iterative scans a tenant gets fewer than 10', async () => {
    const v = await queryVector(12_345 % rows);
    await asTenant(3, async (tx) => {
      await tx.query(`select set_config('hnsw.iterative_scan', 'off', true), set_config('hnsw.ef_search', '40', true)`);
      const sql = `select id from public.evidence_embeddings where embedding_model = $1 order by embedding <#> $2::vector limit 10`;
      const plan = (await tx.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, [MODEL, v])).rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using evidence_embeddings_embedding_idx/, plan);
      const got = (await tx.query(sql, [MODEL, v])).rows.length;
      assert.ok(got < 10, `a plain filtered HNSW scan returned ${got} rows`);
    });
  });

  it("a tenant's top-10 through the index (iterative scan, no exact fallback) returns 10 rows, for every tenant", async () => {
    for (let t = 0; t < TENANTS; t++) {
      const v = await queryVector((t * 4999 + 17) % rows);
      const got = await asTenant(t, (tx) =>
        tx.query<{ id: string }>(`select id from public.evidence_nearest($1::extensions.vector, $2, 10, p_exact => false)`, [v, MODEL]),
      );
      assert.equal(got.rows.length, 10, `tenant ${t}`);
    }
  });

  it('search_evidence_semantic as a tenant returns 10 rows, all its own', async () => {
    // (Recall against exact search is bench/search's business: within a cluster these
    // rows differ by i.i.d. noise, on which any HNSW index recalls poorly.)
    for (let q = 0; q < 5; q++) {
      const t = (q * 7) % TENANTS;
      const v = await queryVector((q * 3331 + 5) % rows);
      const hits = await asTenant(t, (tx) =>
        tx.query<{ id: string; tenant_id: string }>(`select id, tenant_id from public.search_evidence_semantic($1::extensions.vector, $2, 10)`, [v, MODEL]),
      );
      assert.equal(hits.rows.length, 10);
      assert.ok(hits.rows.every((h) => h.tenant_id === tenantId(t)));
    }
  });

  it('the service role narrowing to one tenant also gets full result sets, and hybrid too', async () => {
    const v = await queryVector(777);
    const semantic = await ctx().db.asService((tx) =>
      tx.query<{ tenant_id: string }>(`select tenant_id from public.search_evidence_semantic($1::extensions.vector, $2, 10, p_tenant_id => $3)`, [v, MODEL, tenantId(11)]),
    );
    assert.equal(semantic.rows.length, 10);
    assert.ok(semantic.rows.every((r) => r.tenant_id === tenantId(11)));
    const hybrid = await asTenant(11, (tx) =>
      tx.query(`select id from public.search_evidence_hybrid('row', $1::extensions.vector, $2, 10)`, [v, MODEL]),
    );
    assert.equal(hybrid.rows.length, 10);
  });

  it('a candidate list longer than the default ef_search (100) is returned whole', async () => {
    const v = await queryVector(4242);
    const got = await asTenant(5, (tx) =>
      tx.query(`select id from public.evidence_nearest($1::extensions.vector, $2, 150, p_exact => false)`, [v, MODEL]),
    );
    assert.equal(got.rows.length, 150);
  });

  it('a filter matching only a few rows still returns all of them (the exact fallback)', async () => {
    const v = await queryVector(99);
    // Tenant 4 has rows/20 rows; metadata is {} for all, so narrow by source id instead:
    // a time window that holds nothing but one freshly added row.
    await ctx().owner.transaction((tx) =>
      tx.query(
        `insert into public.evidence_embeddings (tenant_id, source_type, content, embedding, embedding_model, created_at)
         select $1, 'note', 'rare', embedding, embedding_model, '2000-01-01' from public.evidence_embeddings where source_id = '99'`,
        [tenantId(4)],
      ),
    );
    const got = await asTenant(4, (tx) =>
      tx.query<{ content: string }>(
        `select e.content from public.evidence_nearest($1::extensions.vector, $2, 10, p_created_before => '2001-01-01') n
           join public.evidence_embeddings e using (id)`,
        [v, MODEL],
      ),
    );
    assert.deepEqual(got.rows.map((r) => r.content), ['rare']);
  });
});
