// Measurement child for one engine (PostgreSQL: the bench database; PGlite: a data
// directory in a temporary directory). Opens the database the way the CLI does
// (openDatabase from a Config), migrates it, creates the tenants through
// TenantService, loads the synthetic corpus as the owner role (multi-row INSERTs of
// `insertBatch` rows, with the HNSW and GIN indexes dropped; both are then built again from
// their own definitions, as a deployment bulk-loading evidence would), runs VACUUM ANALYZE,
// then asks every query of every search method as the query's tenant (asTenant), methods
// interleaved query by query. Recall@k of each vector method is against Steward's exact
// mode on the same query.
// Usage: node bench/search/search.ts '<SearchRequest JSON>' (the runner does this).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { toVectorLiteral } from '../../src/evidence/vector-literal.ts';
import { serviceAccess, tenantAccess, type Access } from '../../src/services/access.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { busyBetween, machineTicks } from '../outbox/machine.ts';
import { latencySummary, progress, runChild } from './child.ts';
import { Dataset, MODEL_ID, structureOf } from './dataset.ts';
import type { MethodResult, SearchRequest, SearchResult } from './protocol.ts';
import { EXACT, PLANNED, selectMethods, type MethodOutput, type PreparedQuery, type SearchMethod } from './search-methods.ts';

const INDEXES = { hnsw: 'evidence_embeddings_embedding_idx', gin: 'evidence_embeddings_tsv_idx' } as const;
const SETTINGS = [
  'shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_parallel_maintenance_workers', 'max_parallel_workers_per_gather',
  'effective_cache_size', 'jit', 'fsync', 'synchronous_commit', 'hnsw.ef_search', 'hnsw.iterative_scan', 'hnsw.max_scan_tuples',
];
const STRUCTURE_SAMPLE = 1000;
/** Warm-up queries are numbered from here, apart from the measured ones. */
const WARMUP_OFFSET = 1_000_000;

runChild(async (req: SearchRequest): Promise<SearchResult> => {
  const tmp = req.engine === 'pglite' ? await mkdtemp(join(tmpdir(), 'steward-bench-search-')) : undefined;
  const config = loadConfig(tmp ? { STEWARD_DATA_DIR: join(tmp, 'data') } : { DATABASE_URL: req.url });
  const { db } = await openDatabase(config);
  try {
    await migrate(db.driver);
    const methods = selectMethods(req.methods);
    const dataset = new Dataset(req.seed, req.tenants);
    const tenantIds = await createTenants(db, req.tenants);

    const loaded = await load(db, dataset, tenantIds, req);
    const info = await engineInfo(db);
    const sizes = await relationSizes(db);
    const queries = Array.from({ length: req.queries }, (_, i) => prepare(dataset, i));
    const plans = await recordPlans(db, tenantIds, queries[0]!, req.k);
    progress(`plans: ${Object.entries(plans).map(([m, p]) => `${m}: ${p}`).join(' | ')}`);

    // Warm-up: other queries (not measured), every method.
    const tenantAccesses = tenantIds.map((id) => tenantAccess(db, { tenant_id: id }));
    const service = serviceAccess(db);
    const call = (m: SearchMethod, q: PreparedQuery): Promise<{ ms: number; out: MethodOutput }> =>
      timedCall(m.as === 'service' ? service : tenantAccesses[q.tenant]!, m, q, req.k, tenantIds[q.tenant]!);
    for (let i = 0; i < req.warmup; i++) {
      const q = prepare(dataset, WARMUP_OFFSET + i);
      for (const m of methods) await call(m, q);
    }

    // Measured passes, methods interleaved per query.
    const samples = new Map<string, { latency: number[]; query: number[]; first: MethodOutput[] }>(methods.map((m) => [m.name, { latency: [], query: [], first: [] }]));
    const t0 = performance.now();
    const ticks0 = machineTicks();
    for (let rep = 0; rep < req.reps; rep++) {
      for (const q of queries) {
        for (const m of methods) {
          const { ms, out } = await call(m, q);
          const s = samples.get(m.name)!;
          s.latency.push(ms);
          s.query.push(out.queryMs);
          if (rep === 0) s.first.push(out);
        }
      }
      progress(`pass ${rep + 1}/${req.reps}: ${queries.length} queries × ${methods.length} methods in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const machineBusy = busyBetween(ticks0, machineTicks());
    const querySeconds = (performance.now() - t0) / 1000;

    const exact = samples.get(EXACT.name)!.first.map((o) => o.ids);
    const results = methods.map((m) => summarizeMethod(m, samples.get(m.name)!, exact, queries, req));
    for (const r of results) {
      progress(`${r.method.padEnd(20)} recall ${r.recall === null ? '  —  ' : r.recall.toFixed(3)}  rows ${r.rowsMean.toFixed(2)}  p50 ${r.latencyMs.p50.toFixed(2)} ms  p95 ${r.latencyMs.p95.toFixed(2)} ms`);
    }
    return {
      kind: 'search', config: req.config, engine: req.engine, ...info, rows: req.rows, tenants: req.tenants,
      tenantRows: loaded.tenantRows, queries: req.queries, reps: req.reps, structure: loaded.structure,
      load: loaded.load, sizes, plans, methods: results, machineBusy, querySeconds,
    };
  } finally {
    await db.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
});

/** Tenants through the service, largest (tenant 0) first. */
async function createTenants(db: Database, count: number): Promise<string[]> {
  const tenants = new SqlTenantService(serviceAccess(db));
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await tenants.create({ name: `search bench ${i}`, timezone: 'UTC' })).id);
  return ids;
}

interface Loaded {
  tenantRows: number[];
  structure: SearchResult['structure'];
  load: SearchResult['load'];
}

async function load(db: Database, dataset: Dataset, tenantIds: readonly string[], req: SearchRequest): Promise<Loaded> {
  const owner = db.driver;
  // The two indexes a bulk load should not maintain row by row, as the migrations define them.
  const defs = await owner.transaction(async (tx) => (await tx.query<{ indexname: string; indexdef: string }>(
    `select indexname, indexdef from pg_indexes where schemaname = 'public' and indexname = any($1)`, [Object.values(INDEXES)])).rows);
  const def = (name: string): string => {
    const d = defs.find((x) => x.indexname === name);
    if (!d) throw new Error(`index ${name} not found: has the schema changed?`);
    return d.indexdef;
  };
  const hnswDef = def(INDEXES.hnsw);
  const ginDef = def(INDEXES.gin);
  await owner.transaction((tx) => tx.exec(`drop index public.${INDEXES.hnsw}; drop index public.${INDEXES.gin};`));

  const tenantRows = new Array<number>(req.tenants).fill(0);
  const sample: Float32Array[] = [];
  const every = Math.max(1, Math.floor(req.rows / STRUCTURE_SAMPLE));
  let chars = 0;
  const t0 = performance.now();
  let lastLog = t0;
  for (let start = 0; start < req.rows; start += req.insertBatch) {
    const n = Math.min(req.insertBatch, req.rows - start);
    const cols: [string[], string[], string[], string[], string[], string[], string[]] = [[], [], [], [], [], [], []];
    for (let i = start; i < start + n; i++) {
      const r = dataset.row(i);
      tenantRows[r.tenant]!++;
      chars += r.content.length;
      if (i % every === 0 && sample.length < STRUCTURE_SAMPLE) sample.push(r.vector);
      cols[0].push(tenantIds[r.tenant]!);
      cols[1].push(r.sourceType);
      cols[2].push(r.sourceId);
      cols[3].push(r.content);
      cols[4].push(toVectorLiteral(r.vector));
      cols[5].push(JSON.stringify(r.metadata));
      cols[6].push(r.createdAt.toISOString());
    }
    await owner.transaction((tx) => tx.query(
      `insert into public.evidence_embeddings (tenant_id, source_type, source_id, content, embedding, embedding_model, metadata, created_at)
       select x.t, x.st, x.sid, x.c, x.v::extensions.vector, $8, x.m::jsonb, x.ca
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) as x(t, st, sid, c, v, m, ca)`,
      [...cols, MODEL_ID]));
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      progress(`loaded ${(start + n).toLocaleString('en-US')} rows (${Math.round((start + n) / ((lastLog - t0) / 1000))} rows/s)`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  progress(`loaded ${req.rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s; building GIN, then HNSW (maintenance_work_mem ${req.maintenanceWorkMem})`);

  const build = async (indexdef: string): Promise<number> => {
    const t = performance.now();
    await owner.transaction(async (tx) => {
      await tx.query(`select set_config('maintenance_work_mem', $1, true)`, [req.maintenanceWorkMem]);
      await tx.exec(indexdef);
    });
    return (performance.now() - t) / 1000;
  };
  const ginSeconds = await build(ginDef);
  progress(`GIN built in ${ginSeconds.toFixed(1)} s`);
  const hnswSeconds = await build(hnswDef);
  progress(`HNSW built in ${hnswSeconds.toFixed(1)} s`);
  const t1 = performance.now();
  await owner.withSession(async (session) => {
    await session.query('vacuum analyze public.evidence_embeddings');
    await session.query('checkpoint');
  });
  const vacuumSeconds = (performance.now() - t1) / 1000;

  return {
    tenantRows,
    structure: structureOf(sample),
    load: { seconds, rowsPerSecond: req.rows / seconds, ginSeconds, hnswSeconds, vacuumSeconds, meanContentChars: chars / req.rows },
  };
}

function prepare(dataset: Dataset, index: number): PreparedQuery {
  const q = dataset.query(index);
  return { index, tenant: q.tenant, kind: q.kind, literal: toVectorLiteral(q.vector), text: q.text };
}

/** One search as its caller sees it: the whole asTenant (asService) transaction. */
async function timedCall(access: Access, m: SearchMethod, q: PreparedQuery, k: number, tenantId: string): Promise<{ ms: number; out: MethodOutput }> {
  const t0 = performance.now();
  const out = await access.run((tx) => m.run(tx, q, k, tenantId));
  return { ms: performance.now() - t0, out };
}

function summarizeMethod(m: SearchMethod, s: { latency: number[]; query: number[]; first: MethodOutput[] }, exact: readonly string[][], queries: readonly PreparedQuery[], req: SearchRequest): MethodResult {
  const recalls = s.first.map((o, i) => {
    const truth = new Set(exact[i]);
    return truth.size === 0 ? 1 : o.ids.filter((id) => truth.has(id)).length / truth.size;
  });
  const mean = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const byTenant = Array.from({ length: req.tenants }, (_, t) => mean(recalls.filter((_, i) => queries[i]!.tenant === t))).filter((x) => !Number.isNaN(x));
  const keyword = s.first.map((o) => o.keywordRows).filter((x): x is number => x !== null);
  return {
    method: m.name,
    queries: s.first.length,
    recall: m.vector ? mean(recalls) : null,
    recallWorstTenant: m.vector ? Math.min(...byTenant) : null,
    recallByKind: m.vector
      ? { row: mean(recalls.filter((_, i) => queries[i]!.kind === 'row')), centroid: mean(recalls.filter((_, i) => queries[i]!.kind === 'centroid')) }
      : null,
    rowsMean: mean(s.first.map((o) => o.ids.length)),
    shortShare: mean(s.first.map((o) => (o.ids.length < req.k ? 1 : 0))),
    keywordRowsMean: keyword.length > 0 ? mean(keyword) : null,
    latencyMs: latencySummary(s.latency),
    queryMs: latencySummary(s.query),
  };
}

async function engineInfo(db: Database): Promise<Pick<SearchResult, 'serverVersion' | 'pgvectorVersion' | 'settings'>> {
  return db.driver.transaction(async (tx) => {
    const v = (await tx.query<{ version: string; vector: string }>(
      `select version() as version, (select extversion from pg_extension where extname = 'vector') as vector`)).rows[0]!;
    // hnsw.* exist once the library is loaded (the index build above did).
    const rows = (await tx.query<{ name: string; setting: string; unit: string | null }>(
      'select name, setting, unit from pg_settings where name = any($1) order by name', [SETTINGS])).rows;
    return {
      serverVersion: v.version.split(' on ')[0]!.split(',')[0]!,
      pgvectorVersion: v.vector,
      settings: Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting])),
    };
  });
}

async function relationSizes(db: Database): Promise<SearchResult['sizes']> {
  return db.driver.transaction(async (tx) => {
    const r = (await tx.query<{ t: string; h: string; g: string }>(
      `select pg_table_size('public.evidence_embeddings')::text as t, pg_relation_size('public.${INDEXES.hnsw}')::text as h,
              pg_relation_size('public.${INDEXES.gin}')::text as g`)).rows[0]!;
    const mb = (x: string): number => Number(x) / 1024 / 1024;
    return { tableMB: mb(r.t), hnswMB: mb(r.h), ginMB: mb(r.g) };
  });
}

/** The plan nodes of the plain pgvector statements, as the largest and as the smallest tenant. */
async function recordPlans(db: Database, tenantIds: readonly string[], q: PreparedQuery, k: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [label, tenantId] of [['largest tenant', tenantIds[0]!], ['smallest tenant', tenantIds.at(-1)!]] as const) {
    for (const p of PLANNED) {
      out[`${p.name}, ${label}`] = await planOf(db, tenantId, p, q, k);
    }
  }
  return out;
}

async function planOf(db: Database, tenantId: string, p: (typeof PLANNED)[number], q: PreparedQuery, k: number): Promise<string> {
  return db.asTenant({ tenant_id: tenantId }, async (tx) => {
    await tx.query(p.settings);
    const lines = (await tx.query<{ 'QUERY PLAN': string }>(`explain ${p.sql}`, [q.literal, MODEL_ID, k])).rows.map((r) => r['QUERY PLAN'].trim());
    // Plan nodes only (the first line, then every `->`), without the InitPlan of RLS's tenant lookup.
    const nodes = lines.filter((l, i) => i === 0 || l.startsWith('->'))
      .map((l) => l.replace(/^->\s*/, '').replace(/\s+\(cost=.*$/, ''))
      .filter((l) => !l.startsWith('Result'));
    return nodes.join(' → ');
  });
}
