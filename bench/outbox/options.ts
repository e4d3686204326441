// The runner's command line.
import { parseArgs } from 'node:util';

export const DEFAULT_ADMIN_URL = 'postgresql://steward:steward@127.0.0.1:5432/postgres';

export interface BenchOptions {
  reps: number;
  jobs: number;
  latencyJobs: number;
  /** Config names or group names (throughput, latency, serialized); empty = all. */
  only: string[];
  /** Extra steward-pg configs, one per OutboxWorker batchSize given. */
  stewardBatch: number[];
  adminUrl: string;
  database: string;
  /** Before each measurement, wait up to this many seconds for the machine to be mostly idle. */
  waitIdle: number;
  help: boolean;
  list: boolean;
}

export const USAGE = `usage: node bench/outbox/runner.ts [options]      (npm run bench:outbox -- [options])

  --reps N            repetitions; every selected config runs once per repetition (default 3)
  --jobs N            jobs per throughput / serialized measurement (default 20000)
  --latency-jobs N    single jobs per latency measurement, one every 10 ms (default 200)
  --only a,b,...      configs or groups (throughput, latency, serialized) to run (default all)
  --steward-batch N,M also run steward-pg with OutboxWorker batchSize N, M (configs steward-pg-bN)
  --admin-url URL     a superuser connection to the server (default $BENCH_ADMIN_URL or ${DEFAULT_ADMIN_URL})
  --db NAME           the bench database, dropped and created again for every measurement (default steward_bench)
  --wait-idle S       before each measurement, wait up to S seconds until other processes use < 25% of the CPUs (default 0)
  --list              print the configs and exit
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
      reps: { type: 'string' },
      jobs: { type: 'string' },
      'latency-jobs': { type: 'string' },
      only: { type: 'string' },
      'steward-batch': { type: 'string' },
      'admin-url': { type: 'string' },
      db: { type: 'string' },
      'wait-idle': { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const list = (raw: string | undefined): string[] => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const database = values.db ?? 'steward_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(database) || ['postgres', 'template0', 'template1'].includes(database)) {
    throw new Error(`--db must be a plain lower-case name of a database the bench may drop, got ${database}`);
  }
  return {
    reps: positiveInt('reps', values.reps, 3),
    jobs: positiveInt('jobs', values.jobs, 20_000),
    latencyJobs: positiveInt('latency-jobs', values['latency-jobs'], 200),
    only: list(values.only),
    stewardBatch: list(values['steward-batch']).map((b) => positiveInt('steward-batch', b, 0)),
    adminUrl: values['admin-url'] ?? process.env.BENCH_ADMIN_URL ?? DEFAULT_ADMIN_URL,
    database,
    waitIdle: values['wait-idle'] === undefined ? 0 : positiveInt('wait-idle', values['wait-idle'], 0),
    help: values.help,
    list: values.list,
  };
}
