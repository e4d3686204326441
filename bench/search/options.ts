// The command line.
import { parseArgs } from 'node:util';
import { DEFAULT_ADMIN_URL } from '../outbox/options.ts';

export interface BenchOptions {
  rows: number;
  /** Rows of the PGlite measurement (default: --rows). */
  pgliteRows: number;
  tenants: number;
  queries: number;
  /** Measured passes over the queries within one database. */
  reps: number;
  warmup: number;
  /** Config names or groups (search, embed); empty = all. */
  only: string[];
  /** Search methods to run (the exact one always runs); empty = all. */
  methods: string[];
  sentences: number;
  batch: number;
  seed: number;
  adminUrl: string;
  database: string;
  waitIdle: number;
  help: boolean;
  list: boolean;
}

export const USAGE = `usage: node bench/search/runner.ts [options]      (npm run bench:search -- [options])

  --rows N            evidence rows per search measurement (default 100000)
  --pglite-rows N     rows of the PGlite measurement (default: --rows)
  --tenants N         tenants sharing them, Zipf-sized (default 20)
  --queries N         tenant-filtered queries per method, round-robin over the tenants (default 200)
  --reps N            measured passes over the queries (latency samples = queries × reps; recall from the first) (default 3)
  --warmup N          queries (not measured) through every method before the passes (default 20)
  --only a,b,...      configs or groups (search, embed) to run (default all; see --list)
  --methods a,b,...   search methods to run (default all; steward-exact always runs: it is the ground truth)
  --sentences N       real sentences per embedder throughput measurement (default 1000)
  --batch N           texts per embed() call (default 32: the re-indexer's batch)
  --seed N            the synthetic corpus's seed (default 42)
  --admin-url URL     a superuser connection to the server (default $BENCH_ADMIN_URL or ${DEFAULT_ADMIN_URL})
  --db NAME           the bench database, dropped and created again for the PostgreSQL measurement (default steward_bench_search)
  --wait-idle S       before each measurement, wait up to S seconds until other processes use < 25% of the CPUs (default 0)
  --list              print the configs and the search methods, and exit
  --help              this text`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string' },
      'pglite-rows': { type: 'string' },
      tenants: { type: 'string' },
      queries: { type: 'string' },
      reps: { type: 'string' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      methods: { type: 'string' },
      sentences: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'admin-url': { type: 'string' },
      db: { type: 'string' },
      'wait-idle': { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const list = (raw: string | undefined): string[] => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const database = values.db ?? 'steward_bench_search';
  if (!/^[a-z_][a-z0-9_]*$/.test(database) || ['postgres', 'template0', 'template1'].includes(database)) {
    throw new Error(`--db must be a plain lower-case name of a database the bench may drop, got ${database}`);
  }
  const rows = positiveInt('rows', values.rows, 100_000);
  const tenants = positiveInt('tenants', values.tenants, 20);
  return {
    rows,
    pgliteRows: positiveInt('pglite-rows', values['pglite-rows'], rows),
    tenants,
    queries: positiveInt('queries', values.queries, 200),
    reps: positiveInt('reps', values.reps, 3),
    warmup: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 20),
    only: list(values.only),
    methods: list(values.methods),
    sentences: positiveInt('sentences', values.sentences, 1000),
    batch: positiveInt('batch', values.batch, 32),
    seed: positiveInt('seed', values.seed, 42),
    adminUrl: values['admin-url'] ?? process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
    database,
    waitIdle: values['wait-idle'] === undefined ? 0 : positiveInt('wait-idle', values['wait-idle'], 0),
    help: values.help,
    list: values.list,
  };
}
