// What the runner sends to a measurement child (one JSON argument) and what the child
// prints back (one JSON line on stdout). Shared by runner.ts and every child script.

export type System = 'graphile' | 'pgboss' | 'steward';

/**
 * throughput: N jobs bulk-added, then drained by idle workers started on the clock.
 * latency:    workers started idle, then single jobs added one every `intervalMs`.
 * serialized: like throughput, but every tenant (queue) runs one job at a time.
 */
export type Workload = 'throughput' | 'latency' | 'serialized';

/** graphile-worker settings (gw, gwb, gwq). */
export interface GraphileOptions {
  /** localQueue.size; undefined = off (the default). */
  localQueueSize?: number;
  /** completeJobBatchDelay in ms; undefined = off (the default, -1). */
  completeJobBatchDelay?: number;
}

/** pg-boss settings (boss, boss100). */
export interface PgBossOptions {
  batchSize: number;
}

/** Steward settings (steward-*). */
export interface StewardOptions {
  engine: 'postgres' | 'pglite';
  /** OutboxWorker batchSize; undefined = the worker's default. */
  batchSize?: number;
  /** Worker processes: 1 = this child only; 2 = this child plus one steward-helper.ts. */
  processes: number;
  /** tenants.concurrency_limit of every bench tenant. */
  tenantLimit: number;
  /**
   * The order of the bulk-added backlog. `arrival`: each envelope's next_run_at (all in
   * the past, 1 ms apart) puts the queue in enqueue order, round-robin over tenants, as
   * the other systems' job ids do. `clustered`: enqueueMany's own order, where one call's
   * 1,000 envelopes share created_at and are inserted sorted by tenant, so each tenant's
   * 20 are adjacent in the queue.
   */
  order: 'arrival' | 'clustered';
}

export interface MeasurementRequest {
  config: string;
  system: System;
  workload: Workload;
  rep: number;
  /** Jobs (envelopes) to drain; for latency, how many single jobs to add. */
  jobs: number;
  /** Jobs executing at once per worker process. */
  concurrency: number;
  /** Database pool size per worker process. */
  poolSize: number;
  /** Jobs per bulk-add call. */
  addBatch: number;
  /** Tenants (Steward) or named queues (gwq) the jobs are spread over. */
  tenants: number;
  /** The bench database (PostgreSQL configs); absent for PGlite. */
  url?: string;
  /** latency workload: gap between two adds, and the idle time before the first. */
  intervalMs: number;
  idleMs: number;
  /** The longest the drain may take before the measurement fails. */
  timeoutMs: number;
  graphile?: GraphileOptions;
  pgboss?: PgBossOptions;
  steward?: StewardOptions;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface MeasurementResult {
  config: string;
  system: System;
  workload: Workload;
  rep: number;
  jobs: number;
  /** Bulk enqueue (throughput/serialized): seconds for all add calls, and jobs/s. */
  enqueueSeconds: number;
  enqueuePerSecond: number;
  /** The timed window: just before the workers start → the queue is empty. */
  seconds: number;
  jobsPerSecond: number;
  /** Node CPU (user + system) of the measuring process during the window, per 1,000 jobs. */
  nodeCpuMsPer1k: number;
  /** Share of the machine's CPU time not idle during the window (all processes, PostgreSQL too); null when /proc/stat is unreadable. */
  machineBusy: number | null;
  /** latency workload: add call → handler's first line, in ms. */
  latencyMs?: LatencySummary;
  /** Steward: what the harness verified after the run. */
  checks?: Record<string, unknown>;
}

/** Messages between steward.ts and the extra worker processes it forks (steward-helper.ts). */
export type HelperCommand = { type: 'start' } | { type: 'stop' };
export type HelperEvent =
  | { type: 'ready' }
  | { type: 'completed'; n: number }
  | { type: 'stopped'; maxInFlightPerTenant: number };
