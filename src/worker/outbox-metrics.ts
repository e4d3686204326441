import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Completion } from '../domain/envelope-outcome.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import type { TenantDlqSize } from '../services/outbox-operations.ts';
import { SlidingCount } from './sliding-count.ts';

// The worker's Prometheus metrics, with the seed's names (data-and-roadmap "Outbox Worker
// Operations") and the contract's attempt and conflict counters. Counters count what this
// process recorded; the DLQ gauge is read from the database at scrape time, so it is the
// same whichever worker process is scraped.

/** The seed's `status` label of outbox_processed_total. */
export type ProcessedStatus = 'success' | 'retry' | 'failed';

/**
 * How a completion counts as processed. An attempted execution that will run again is a
 * retry; success is success; every other end is a failure: dead letter (permanent or
 * attempts exhausted), conflict (a 409, terminal) and reject (a missing scope, terminal).
 * A defer (quiet hours) or await_approval is a guardrail hold, not a processing outcome:
 * the envelope has not been worked on and will be (or be rejected) later, so counting it
 * would count one envelope several times and turn "retry" into "waiting for a person".
 * Holds are visible in guardrail_decisions_total instead. Null = not processed.
 */
export function processedStatus(completion: Pick<Completion, 'to' | 'attempted'>): ProcessedStatus | null {
  switch (completion.to) {
    case 'success':
      return 'success';
    case 'pending':
      return completion.attempted ? 'retry' : null;
    case 'dlq':
    case 'conflict':
    case 'rejected':
      return 'failed';
    case 'awaiting_approval':
      return null;
  }
}

/** The guardrail_decisions_total labels for a completion. */
export function guardrailLabels(completion: Pick<Completion, 'attempted' | 'transition' | 'decision'>): { guardrail: string; decision: string } {
  // Only an allowed envelope runs; no single guardrail decided it.
  if (completion.attempted) return { guardrail: 'none', decision: 'execute' };
  const named = (completion.decision as { guardrail?: unknown } | undefined)?.guardrail;
  return { guardrail: typeof named === 'string' ? named : 'unknown', decision: completion.transition };
}

// 1 ms to 60 s, roughly 1-2.5-5 per decade: a no-op executor lands in the first buckets,
// a slow provider call near the execution timeout (60 s by default) in the last.
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface OutboxMetricsOptions {
  /** Dead letters per tenant, read at each scrape (SqlOutboxOperations.dlqSizeByTenant). */
  dlqSizeByTenant?: () => Promise<readonly TenantDlqSize[]>;
  /** Told when reading the DLQ sizes fails; the scrape still answers, without them. */
  onCollectError?: (error: unknown) => void;
  /** Milliseconds, for the per-minute window; default Date.now (tests move it). */
  now?: () => number;
}

/** What outbox_running reads: a worker's id and how many envelopes it is executing. */
export interface RunningSource {
  readonly id: string;
  readonly runningCount: number;
}

/**
 * The metrics on a Registry of their own, never prom-client's global one: two instances
 * (two workers in one test process, or the API server later) never collide, and a
 * scrape shows only what this object registered.
 */
export class OutboxMetrics {
  readonly registry = new Registry();
  readonly #processed: Counter<'tenant' | 'status'>;
  readonly #duration: Histogram;
  readonly #retries: Counter<'tenant'>;
  readonly #attempts: Counter<'tenant'>;
  readonly #conflicts: Counter<'tenant'>;
  readonly #decisions: Counter<'guardrail' | 'decision'>;
  readonly #workers = new Set<RunningSource>();
  readonly #lastMinute: SlidingCount;

  constructor(options: OutboxMetricsOptions = {}) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    this.#lastMinute = new SlidingCount(60, now);
    this.#processed = new Counter({
      name: 'outbox_processed_total', registers, labelNames: ['tenant', 'status'],
      help: 'Envelopes processed: success, retry (will run again) or failed (dead letter, conflict, rejected). Guardrail holds are not counted.',
    });
    this.#duration = new Histogram({
      name: 'outbox_processing_duration_seconds', registers, buckets: [...DURATION_BUCKETS],
      help: 'Execution time of each executed envelope (the executor call), in seconds.',
    });
    this.#retries = new Counter({ name: 'outbox_retry_total', registers, labelNames: ['tenant'], help: 'Executions that failed retryably and were scheduled to run again.' });
    this.#attempts = new Counter({ name: 'outbox_attempts_total', registers, labelNames: ['tenant'], help: 'Executions recorded (each counts against the risk tier\'s maximum attempts).' });
    this.#conflicts = new Counter({ name: 'outbox_conflicts_total', registers, labelNames: ['tenant'], help: 'Executions the provider answered with a conflict (409): terminal, no retry, no DLQ.' });
    this.#decisions = new Counter({
      name: 'guardrail_decisions_total', registers, labelNames: ['guardrail', 'decision'],
      help: 'Guardrail outcomes: execute (guardrail="none"), defer, reject, await_approval, by the guardrail that decided.',
    });
    // The gauges compute their value at scrape time (collect); the registry holds them.
    const lastMinute = this.#lastMinute;
    new Gauge({
      name: 'outbox_processed_per_minute', registers,
      help: 'Envelopes processed by this process in the last 60 s (1 s resolution). With Prometheus prefer rate(outbox_processed_total[1m]) * 60.',
      collect() {
        this.set(lastMinute.total());
      },
    });
    const dlq = options.dlqSizeByTenant;
    new Gauge({
      name: 'outbox_dlq_size', registers, labelNames: ['tenant'],
      help: 'Dead-lettered envelopes per tenant, read from the database at scrape time.',
      async collect() {
        if (!dlq) return;
        try {
          const sizes = await dlq();
          this.reset(); // tenants deleted since the last scrape must not linger
          for (const { tenant_id, size } of sizes) this.set({ tenant: tenant_id }, size);
        } catch (error) {
          // A stale size would be a lie and a failed scrape would hide every counter
          // during an outage, when they matter most: drop the series, report the error.
          this.reset();
          options.onCollectError?.(error);
        }
      },
    });
    const workers = this.#workers;
    new Gauge({
      name: 'outbox_running', registers, labelNames: ['worker'],
      help: 'Envelopes executing now, per worker of this process.',
      collect() {
        this.reset();
        for (const w of workers) this.set({ worker: w.id }, w.runningCount);
      },
    });
  }

  /** The Content-Type of metrics(): Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reports outbox_running for this worker from now on. */
  track(worker: RunningSource): void {
    this.#workers.add(worker);
  }

  /**
   * Counts one completion, from the worker's onCompleted. `applied.applied === false`
   * (the lease was lost and the database refused the outcome) counts nothing: the
   * envelope is recovered and its next outcome is counted then, so nothing is counted twice.
   */
  observe(envelope: Pick<OutboxEnvelope, 'tenant_id'>, completion: Completion, applied: { applied: boolean } = { applied: true }): void {
    if (!applied.applied) return;
    const tenant = envelope.tenant_id;
    this.#decisions.inc(guardrailLabels(completion));
    if (completion.attempted) {
      this.#attempts.inc({ tenant });
      if (completion.latency_ms !== undefined) this.#duration.observe(completion.latency_ms / 1000);
    }
    if (completion.to === 'conflict') this.#conflicts.inc({ tenant });
    const status = processedStatus(completion);
    if (status === null) return;
    this.#processed.inc({ tenant, status });
    if (status === 'retry') this.#retries.inc({ tenant });
    this.#lastMinute.add();
  }

  /** Every metric in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
