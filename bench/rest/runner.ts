import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import type { Driver } from '../../src/db/types.ts';
import { mintToken } from '../../src/http/auth/tokens.ts';
import { buildReadStatement } from '../../src/http/rest/build-read.ts';
import { loadCatalog } from '../../src/http/rest/catalog.ts';
import { parseQueryParams } from '../../src/http/rest/query-params.ts';
import { planRead } from '../../src/http/rest/read-plan.ts';

// bench/rest: a 20-row filtered select under RLS with a tenant token, 8 concurrent
// clients, requests/s and p99 for
//   direct          the same statement Steward builds, through `pg` (8 clients, each request
//                   a READ ONLY transaction with set_config of role and claims: what PostgREST does)
//   steward-pg      Steward's API server on PostgreSQL (autocannon, 8 connections)
//   steward-pglite  Steward's API server embedded (PGlite)
// in one run, on the same data. Raw results: bench/rest/results/<timestamp>.json.

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: opts } = parseArgs({
  options: {
    'admin-url': { type: 'string', default: process.env.BENCH_ADMIN_URL ?? 'postgresql://steward:steward@127.0.0.1:5432/postgres' },
    db: { type: 'string', default: 'steward_bench_rest' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' },
    rows: { type: 'string', default: '2000' },
    only: { type: 'string' },
  },
});
const DURATION = Number(opts.duration);
const WARMUP = Number(opts.warmup);
const CONNECTIONS = Number(opts.connections);
const ROWS_PER_TENANT = Number(opts.rows);
const ONLY = opts.only?.split(',');
const SECRET = 'bench-rest-secret-0123456789-abcdefghijklmnop';
const TENANTS = ['aaaaaaaa-0000-4000-8000-0000000000a1', 'bbbbbbbb-0000-4000-8000-0000000000b2', 'cccccccc-0000-4000-8000-0000000000c3'];
const TENANT = TENANTS[0]!;
/** supabase-js: .from('objectives').select('id, title, metric, target, created_at').eq('metric', 'm3').order('created_at', { ascending: false }).limit(20) */
const QUERY = 'select=id,title,metric,target,created_at&metric=eq.m3&order=created_at.desc&limit=20';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: opts['admin-url'] });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Migrated, with three tenants of ROWS_PER_TENANT objectives each (10 metrics: 1 in 10 match the filter). */
async function arrange(driver: Driver): Promise<void> {
  await migrate(driver);
  await driver.transaction(async (tx) => {
    for (const [i, id] of TENANTS.entries()) {
      await tx.query(`insert into public.tenants (id, name, plan) values ($1, $2, 'pro')`, [id, `Tenant ${i}`]);
      await tx.query(`insert into public.objectives (tenant_id, title, metric, target, created_at)
        select $1::uuid, 'Objective ' || g, 'm' || (g % 10), (g % 100) || '%', now() - make_interval(secs => g)
          from generate_series(1, $2::int) g`, [id, ROWS_PER_TENANT]);
    }
    await tx.query('analyze public.objectives');
  });
}

interface Figures {
  config: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function startServer(request: Record<string, unknown>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'server.ts'), JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function loadSteward(config: string, url: string, token: string): Promise<Figures> {
  const target = { url: `${url}/rest/v1/objectives?${QUERY}`, connections: CONNECTIONS, headers: { apikey: token, Authorization: `Bearer ${token}`, Accept: 'application/json' } };
  const check = await fetch(target.url, { headers: target.headers });
  const rows = await check.json() as unknown[];
  if (check.status !== 200 || rows.length !== 20) throw new Error(`${config}: expected 20 rows, got ${check.status} ${JSON.stringify(rows).slice(0, 200)}`);
  await autocannon({ ...target, duration: WARMUP });
  const r = await autocannon({ ...target, duration: DURATION });
  return { config, requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** The statement Steward builds for QUERY, run the way PostgREST runs it, by 8 clients. */
async function loadDirect(url: string): Promise<Figures> {
  const catalogDb = new Database(new PostgresDriver({ connectionString: url, max: 1 }));
  const catalog = await catalogDb.asService((tx) => loadCatalog(tx), { readOnly: true });
  await catalogDb.close();
  const statement = buildReadStatement(planRead(catalog, catalog.tables.get('objectives')!, parseQueryParams(QUERY)), { count: false, stripNulls: false });
  const claims = JSON.stringify({ role: 'authenticated', tenant_id: TENANT, sub: 'bench' });
  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  const once = async (client: pg.PoolClient): Promise<number> => {
    await client.query('begin read only');
    await client.query(`select set_config('search_path', 'public, extensions', true), set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, ['authenticated', claims]);
    const res = await client.query<{ body: string }>(statement.text, [...statement.values]);
    await client.query('commit');
    return (JSON.parse(res.rows[0]!.body) as unknown[]).length;
  };
  const run = async (seconds: number, latencies?: number[]): Promise<void> => {
    const end = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < end) {
          const start = performance.now();
          const n = await once(client);
          latencies?.push(performance.now() - start);
          if (n !== 20) throw new Error(`direct: expected 20 rows, got ${n}`);
        }
      } finally {
        client.release();
      }
    }));
  };
  await run(WARMUP);
  const latencies: number[] = [];
  const started = performance.now();
  await run(DURATION, latencies);
  const seconds = (performance.now() - started) / 1000;
  await pool.end();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { config: 'direct', requests: latencies.length, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors: 0 };
}

const wanted = (config: string): boolean => !ONLY || ONLY.includes(config);
const results: Figures[] = [];
const token = await mintToken(SECRET, { role: 'authenticated', tenantId: TENANT, sub: 'bench', ttlSeconds: 3600 });
const url = withDatabase(opts['admin-url'], opts.db);
const dataDir = await mkdtemp(join(tmpdir(), 'steward-bench-rest-'));
try {
  log(`arranging PostgreSQL ${opts.db} and PGlite (${ROWS_PER_TENANT} objectives × ${TENANTS.length} tenants)`);
  await admin(`drop database if exists ${opts.db} with (force)`);
  await admin(`create database ${opts.db}`);
  const pgDriver = new PostgresDriver({ connectionString: url, max: 2 });
  await arrange(pgDriver);
  await pgDriver.close();
  if (wanted('steward-pglite')) {
    const lite = await PGliteDriver.open({ dataDir });
    await arrange(lite);
    await lite.close();
  }
  if (wanted('direct')) {
    log('direct: pg, 8 clients');
    results.push(await loadDirect(url));
  }
  if (wanted('steward-pg')) {
    log('steward-pg: autocannon, 8 connections');
    const { child, url: api } = await startServer({ engine: 'postgres', url, secret: SECRET, pool: CONNECTIONS });
    try {
      results.push(await loadSteward('steward-pg', api, token));
    } finally {
      await stopServer(child);
    }
  }
  if (wanted('steward-pglite')) {
    log('steward-pglite: autocannon, 8 connections');
    const { child, url: api } = await startServer({ engine: 'pglite', dataDir, secret: SECRET, pool: 1 });
    try {
      results.push(await loadSteward('steward-pglite', api, token));
    } finally {
      await stopServer(child);
    }
  }
} finally {
  await admin(`drop database if exists ${opts.db} with (force)`).catch((error: unknown) => log(`could not drop ${opts.db}: ${String(error)}`));
  await rm(dataDir, { recursive: true, force: true });
}

const direct = results.find((r) => r.config === 'direct');
const lines = [
  `${CONNECTIONS} concurrent clients, ${DURATION} s (after ${WARMUP} s warm-up), ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  '',
  '| config | requests/s | × direct | p50 ms | p99 ms | errors |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.config} | ${r.rps.toFixed(0)} | ${direct ? (r.rps / direct.rps).toFixed(2) : '–'} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`),
];
const steward = results.find((r) => r.config === 'steward-pg');
if (direct && steward) lines.push('', `goal steward-pg ≥ 0.5× direct: ${steward.rps / direct.rps >= 0.5 ? 'PASS' : 'FAIL'} (${(steward.rps / direct.rps).toFixed(2)}×)`);
process.stdout.write(`${lines.join('\n')}\n`);
const resultsDir = join(import.meta.dirname, 'results');
await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ query: QUERY, connections: CONNECTIONS, duration: DURATION, rowsPerTenant: ROWS_PER_TENANT, results }, null, 2));
process.exitCode = results.some((r) => r.errors > 0) || (direct && steward && steward.rps / direct.rps < 0.5) ? 1 : 0;
