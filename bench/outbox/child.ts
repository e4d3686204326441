// The child side of a measurement: read the request, run it, print one JSON line. Also
// the pieces every system's child shares: the timed window, the latency probe, waiting
// for the drain, and the pre-run VACUUM ANALYZE + CHECKPOINT.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { busyBetween, machineTicks, type MachineTicks } from './machine.ts';
import type { LatencySummary, MeasurementRequest, MeasurementResult } from './protocol.ts';
import { percentile } from './stats.ts';

/** Runs `measure` on the request in argv[2] and prints its result as one JSON line; exits 1 on any error. */
export function runChild(measure: (req: MeasurementRequest) => Promise<MeasurementResult>): void {
  const raw = process.argv[2];
  if (!raw) {
    console.error('usage: node bench/outbox/<system>.ts <measurement request as JSON> (the runner passes it)');
    process.exit(2);
  }
  const req = JSON.parse(raw) as MeasurementRequest;
  measure(req).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      console.error(`${req.config} rep ${req.rep}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}

/** Raw process CPU and machine CPU counters at one instant. */
interface Sample {
  at: number;
  cpu: NodeJS.CpuUsage;
  machine: MachineTicks | null;
}

function sample(): Sample {
  return { at: performance.now(), cpu: process.cpuUsage(), machine: machineTicks() };
}

export interface WindowResult {
  seconds: number;
  cpuMs: number;
  machineBusy: number | null;
}

/** The timed window: opened just before the workers start, closed when the queue is empty. */
export class TimedWindow {
  readonly #start = sample();

  close(): WindowResult {
    const end = sample();
    const cpu = process.cpuUsage(this.#start.cpu);
    return {
      seconds: (end.at - this.#start.at) / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
      machineBusy: busyBetween(this.#start.machine, end.machine),
    };
  }
}

/**
 * Counts handler calls and resolves `done` at the n-th. A job that runs twice (it should
 * not here) is counted twice: the drain check against the database settles it.
 */
export class Completions {
  count = 0;
  readonly #target: number;
  readonly #done: PromiseWithResolvers<void> = Promise.withResolvers();

  constructor(target: number) {
    this.#target = target;
    if (target <= 0) this.#done.resolve();
  }

  hit(n = 1): void {
    this.count += n;
    if (this.count >= this.#target) this.#done.resolve();
  }

  /** Resolves at the target count; rejects after `timeoutMs` naming how far it got. */
  async wait(timeoutMs: number, label: string): Promise<void> {
    const timer = AbortSignal.timeout(timeoutMs);
    const timedOut = new Promise<never>((_, reject) => {
      timer.addEventListener('abort', () => reject(new Error(`${label}: only ${this.count} of ${this.#target} jobs ran within ${timeoutMs} ms`)), { once: true });
    });
    await Promise.race([this.#done.promise, timedOut]);
  }
}

/**
 * Enqueue → execute latency: `added(seq)` just before the add call, `started(seq)` on the
 * handler's first line (the first call only).
 */
export class LatencyProbe {
  readonly #added = new Map<number, number>();
  readonly #latencies = new Map<number, number>();

  added(seq: number): void {
    this.#added.set(seq, performance.now());
  }

  started(seq: number): void {
    const t0 = this.#added.get(seq);
    if (t0 !== undefined && !this.#latencies.has(seq)) this.#latencies.set(seq, performance.now() - t0);
  }

  summary(): LatencySummary {
    const values = [...this.#latencies.values()].sort((a, b) => a - b);
    return {
      n: values.length,
      p50: percentile(values, 0.5),
      p99: percentile(values, 0.99),
      max: values.at(-1) ?? Number.NaN,
      mean: values.reduce((a, b) => a + b, 0) / (values.length || 1),
    };
  }
}

/**
 * Adds `count` single jobs, the i-th at start + i × interval (never two at once: an add
 * that overruns its slot delays the next one), each timed by the probe.
 */
export async function addPaced(count: number, intervalMs: number, probe: LatencyProbe, add: (seq: number) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  for (let seq = 0; seq < count; seq++) {
    const wait = start + seq * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    probe.added(seq);
    await add(seq);
  }
}

/** Counts the jobs not finished yet. */
export interface Remaining {
  remaining(): Promise<number>;
}

/** Polls the counter (every 2 ms: it only runs once every handler has been called) until it is 0. */
export async function untilEmpty(counter: Remaining, timeoutMs: number, label: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const n = await counter.remaining();
    if (n === 0) return;
    if (performance.now() > deadline) throw new Error(`${label}: ${n} jobs still unfinished after ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** VACUUM ANALYZE then CHECKPOINT on the bench database, on a connection of its own. */
export async function vacuumAndCheckpoint(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-prepare' });
  await client.connect();
  try {
    await client.query('vacuum analyze');
    await client.query('checkpoint');
  } finally {
    await client.end();
  }
}

/**
 * A connection held open (opened before the window) for the drain check: `remaining()`
 * runs `sql`, which must return one row with an integer column `n`.
 */
export class RemainingCounter implements Remaining {
  readonly #client: pg.Client;
  readonly #sql: string;

  private constructor(client: pg.Client, sql: string) {
    this.#client = client;
    this.#sql = sql;
  }

  static async open(url: string, sql: string): Promise<RemainingCounter> {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-drain-check' });
    await client.connect();
    return new RemainingCounter(client, sql);
  }

  async remaining(): Promise<number> {
    return (await this.#client.query<{ n: number }>(this.#sql)).rows[0]!.n;
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}

/** Splits 0..n-1 into consecutive chunks of `size`. */
export function* chunks(n: number, size: number): Generator<number[]> {
  for (let i = 0; i < n; i += size) yield Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k);
}

/** The result fields every child computes the same way. */
export function throughputFields(req: MeasurementRequest, enqueue: { seconds: number }, window: WindowResult): Pick<MeasurementResult,
  'config' | 'system' | 'workload' | 'rep' | 'jobs' | 'enqueueSeconds' | 'enqueuePerSecond' | 'seconds' | 'jobsPerSecond' | 'nodeCpuMsPer1k' | 'machineBusy'> {
  return {
    config: req.config,
    system: req.system,
    workload: req.workload,
    rep: req.rep,
    jobs: req.jobs,
    enqueueSeconds: enqueue.seconds,
    enqueuePerSecond: enqueue.seconds > 0 ? req.jobs / enqueue.seconds : 0,
    seconds: window.seconds,
    jobsPerSecond: req.jobs / window.seconds,
    nodeCpuMsPer1k: (window.cpuMs / req.jobs) * 1000,
    machineBusy: window.machineBusy,
  };
}

/** Times an async step in seconds. */
export async function timed(fn: () => Promise<void>): Promise<{ seconds: number }> {
  const t0 = performance.now();
  await fn();
  return { seconds: (performance.now() - t0) / 1000 };
}
