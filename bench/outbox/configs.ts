// The configurations a run measures. Each is one child script with one request shape;
// concurrency, pool size and add batch are the same for all of them (runner.ts).
import type { MeasurementRequest, System, Workload } from './protocol.ts';

export type Group = Workload;

export interface BenchConfig {
  name: string;
  group: Group;
  system: System;
  /** Which child script runs it (bench/outbox/<script>). */
  script: 'graphile.ts' | 'pgboss.ts' | 'steward.ts';
  /** On the bench PostgreSQL database (false: PGlite in a temporary directory). */
  postgres: boolean;
  description: string;
  /** The request fields specific to this config. */
  request: Pick<MeasurementRequest, 'workload'> & Partial<Pick<MeasurementRequest, 'graphile' | 'pgboss' | 'steward'>>;
}

const GW_BATCHED = { localQueueSize: 100, completeJobBatchDelay: 0 };
const STEWARD_PG = { engine: 'postgres', processes: 1, tenantLimit: 100, order: 'arrival' } as const;

export function allConfigs(stewardBatches: readonly number[]): BenchConfig[] {
  return [
    // Drain N bulk-added no-op jobs.
    { name: 'gw', group: 'throughput', system: 'graphile', script: 'graphile.ts', postgres: true,
      description: 'graphile-worker defaults (LISTEN/NOTIFY, one job per fetch, one completion per job)',
      request: { workload: 'throughput', graphile: {} } },
    { name: 'gwb', group: 'throughput', system: 'graphile', script: 'graphile.ts', postgres: true,
      description: 'graphile-worker, documented batching: localQueue.size 100 + completeJobBatchDelay 0',
      request: { workload: 'throughput', graphile: GW_BATCHED } },
    { name: 'boss', group: 'throughput', system: 'pgboss', script: 'pgboss.ts', postgres: true,
      description: 'pg-boss batchSize 10, burstWhenBatchFull, LISTEN/NOTIFY (useListenNotify + queue notify)',
      request: { workload: 'throughput', pgboss: { batchSize: 10 } } },
    { name: 'boss100', group: 'throughput', system: 'pgboss', script: 'pgboss.ts', postgres: true,
      description: 'pg-boss as boss, batchSize 100',
      request: { workload: 'throughput', pgboss: { batchSize: 100 } } },
    { name: 'steward-pg', group: 'throughput', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'Steward OutboxWorker, default options, 50 tenants (limit 100 each), backlog in arrival order; guardrails + audit row per transition',
      request: { workload: 'throughput', steward: STEWARD_PG } },
    { name: 'steward-pg-clustered', group: 'throughput', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'steward-pg with the backlog in enqueueMany order: each tenant\'s envelopes adjacent (20 per 1,000-call)',
      request: { workload: 'throughput', steward: { ...STEWARD_PG, order: 'clustered' } } },
    ...stewardBatches.map((batchSize): BenchConfig => ({
      name: `steward-pg-b${batchSize}`, group: 'throughput', system: 'steward', script: 'steward.ts', postgres: true,
      description: `steward-pg with OutboxWorker batchSize ${batchSize}`,
      request: { workload: 'throughput', steward: { ...STEWARD_PG, batchSize } },
    })),
    { name: 'steward-pglite', group: 'throughput', system: 'steward', script: 'steward.ts', postgres: false,
      description: 'steward-pg on embedded PGlite (data dir in a temporary directory)',
      request: { workload: 'throughput', steward: { ...STEWARD_PG, engine: 'pglite' } } },

    // Enqueue → execute latency on idle workers.
    { name: 'lat-gw', group: 'latency', system: 'graphile', script: 'graphile.ts', postgres: true,
      description: 'gw, single addJob calls', request: { workload: 'latency', graphile: {} } },
    { name: 'lat-gwb', group: 'latency', system: 'graphile', script: 'graphile.ts', postgres: true,
      description: 'gwb, single addJob calls', request: { workload: 'latency', graphile: GW_BATCHED } },
    { name: 'lat-boss', group: 'latency', system: 'pgboss', script: 'pgboss.ts', postgres: true,
      description: 'boss, single send calls', request: { workload: 'latency', pgboss: { batchSize: 10 } } },
    { name: 'lat-steward-pg', group: 'latency', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'steward-pg, single OutboxService.enqueue calls', request: { workload: 'latency', steward: STEWARD_PG } },

    // One job at a time per tenant (queue), 50 tenants.
    { name: 'gwq', group: 'serialized', system: 'graphile', script: 'graphile.ts', postgres: true,
      description: 'gw with every job in one of 50 named queues (serial per queue)',
      request: { workload: 'serialized', graphile: {} } },
    { name: 'serial-steward-1p', group: 'serialized', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'Steward, 50 tenants with concurrency_limit 1, one worker process (concurrency 8)',
      request: { workload: 'serialized', steward: { ...STEWARD_PG, tenantLimit: 1 } } },
    { name: 'serial-steward-2p', group: 'serialized', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'as serial-steward-1p with two worker processes (concurrency 8 each)',
      request: { workload: 'serialized', steward: { ...STEWARD_PG, tenantLimit: 1, processes: 2 } } },
    { name: 'serial-steward-1p-clustered', group: 'serialized', system: 'steward', script: 'steward.ts', postgres: true,
      description: 'serial-steward-1p with the backlog in enqueueMany order (each tenant\'s envelopes adjacent)',
      request: { workload: 'serialized', steward: { ...STEWARD_PG, tenantLimit: 1, order: 'clustered' } } },
  ];
}

/** The configs named by `only` (config or group names), in catalogue order; all when empty. */
export function selectConfigs(configs: readonly BenchConfig[], only: readonly string[]): BenchConfig[] {
  if (only.length === 0) return [...configs];
  const known = new Set<string>([...configs.map((c) => c.name), 'throughput', 'latency', 'serialized']);
  const unknown = only.filter((o) => !known.has(o));
  if (unknown.length > 0) throw new Error(`--only: unknown config(s) ${unknown.join(', ')}; see --list`);
  return configs.filter((c) => only.includes(c.name) || only.includes(c.group));
}
