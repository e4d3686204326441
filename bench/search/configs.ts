// The measurements a run makes: one child process each.
import type { MeasurementRequest } from './protocol.ts';
import type { BenchOptions } from './options.ts';

export type Group = 'search' | 'embed';

export interface BenchConfig {
  name: string;
  group: Group;
  /** Which child script runs it (bench/search/<script>). */
  script: 'search.ts' | 'embed.ts';
  /** On the bench PostgreSQL database, created again just before. */
  postgres: boolean;
  description: string;
}

export const CONFIGS: readonly BenchConfig[] = [
  { name: 'pg', group: 'search', script: 'search.ts', postgres: true,
    description: 'PostgreSQL: load the corpus, build GIN + HNSW, every search method as each query\'s tenant' },
  { name: 'pglite', group: 'search', script: 'search.ts', postgres: false,
    description: 'the same on embedded PGlite (data directory in a temporary directory)' },
  { name: 'embed-default', group: 'embed', script: 'embed.ts', postgres: false,
    description: 'the default embedder (USE + PCA to 384) on real sentences, texts/s' },
  { name: 'embed-hashing', group: 'embed', script: 'embed.ts', postgres: false,
    description: 'the hashing embedder (lexical) on the same sentences, texts/s' },
];

/** The configs named by `only` (config or group names), in catalogue order; all when empty. */
export function selectConfigs(only: readonly string[]): BenchConfig[] {
  if (only.length === 0) return [...CONFIGS];
  const known = new Set<string>([...CONFIGS.map((c) => c.name), 'search', 'embed']);
  const unknown = only.filter((o) => !known.has(o));
  if (unknown.length > 0) throw new Error(`--only: unknown config(s) ${unknown.join(', ')}; see --list`);
  return CONFIGS.filter((c) => only.includes(c.name) || only.includes(c.group));
}

export function requestFor(config: BenchConfig, opts: BenchOptions, benchUrl: string): MeasurementRequest {
  if (config.group === 'embed') {
    return { kind: 'embed', config: config.name, embedder: config.name === 'embed-default' ? 'default' : 'hashing', sentences: opts.sentences, batch: opts.batch };
  }
  return {
    kind: 'search',
    config: config.name,
    engine: config.postgres ? 'postgres' : 'pglite',
    ...(config.postgres ? { url: benchUrl } : {}),
    rows: config.postgres ? opts.rows : opts.pgliteRows,
    tenants: opts.tenants,
    queries: opts.queries,
    reps: opts.reps,
    warmup: opts.warmup,
    seed: opts.seed,
    k: 10,
    insertBatch: 1000,
    maintenanceWorkMem: '512MB',
    methods: opts.methods,
  };
}
