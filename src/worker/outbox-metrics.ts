import type { Counter as OtelCounter, Histogram as OtelHistogram, Meter } from '@opentelemetry/api';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Completion } from '../domain/envelope-outcome.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import type { TenantDlqSize } from '../services/outbox-operations.ts';
import { SlidingCount } from './sliding-count.ts';

// The worker's Prometheus metrics, with the seed's names (data-and-roadmap "Outbox Worker
// Operations") and the contract's attempt and conflict counters. Counters count what this
// process recorded; the DLQ gauge is read from the database at scrape time, so it is the
// same whichever worker process is scraped. Given an OpenTelemetry meter, every
// observation is also recorded into OTel instruments of the same names and labels, which
// the OTLP exporter pushes (src/observability/otlp.ts): one set of counting rules, two
// outlets, and dashboards written for one work for the other.

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

/** Each metric's help text (Prometheus) and description (OTel). */
const HELP = {
  outbox_processed_total: 'Envelopes processed: success, retry (will run again) or failed (dead letter, conflict, rejected). Guardrail holds are not counted.',
  outbox_processing_duration_seconds: 'Execution time of each executed envelope (the executor call), in seconds.',
  outbox_retry_total: 'Executions that failed retryably and were scheduled to run again.',
  outbox_attempts_total: 'Executions recorded (each counts against the risk tier\'s maximum attempts).',
  outbox_conflicts_total: 'Executions the provider answered with a conflict (409): terminal, no retry, no DLQ.',
  guardrail_decisions_total: 'Guardrail outcomes: execute (guardrail="none"), defer, reject, await_approval, by the guardrail that decided.',
  outbox_processed_per_minute: 'Envelopes processed by this process in the last 60 s (1 s resolution). With Prometheus prefer rate(outbox_processed_total[1m]) * 60.',
  outbox_dlq_size: 'Dead-lettered envelopes per tenant, read from the database at each scrape (and each OTLP export).',
  outbox_running: 'Envelopes executing now, per worker of this process.',
} as const;

/** The OTel twins of the prom-client counters and histogram. */
interface OtelInstruments {
  processed: OtelCounter;
  duration: OtelHistogram;
  retries: OtelCounter;
  attempts: OtelCounter;
  conflicts: OtelCounter;
  decisions: OtelCounter;
}

export interface OutboxMetricsOptions {
  /** Dead letters per tenant, read at each scrape (SqlOutboxOperations.dlqSizeByTenant). */
  dlqSizeByTenant?: () => Promise<readonly TenantDlqSize[]>;
  /** Told when reading the DLQ sizes fails; the scrape still answers, without them. */
  onCollectError?: (error: unknown) => void;
  /** Milliseconds, for the per-minute window; default Date.now (tests move it). */
  now?: () => number;
  /** Also record into OTel instruments from this meter (OTLP export). */
  meter?: Meter;
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
  readonly #otel: OtelInstruments | undefined;
  readonly #workers = new Set<RunningSource>();
  readonly #lastMinute: SlidingCount;

  constructor(options: OutboxMetricsOptions = {}) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    this.#lastMinute = new SlidingCount(60, now);
    this.#processed = new Counter({ name: 'outbox_processed_total', registers, labelNames: ['tenant', 'status'], help: HELP.outbox_processed_total });
    this.#duration = new Histogram({ name: 'outbox_processing_duration_seconds', registers, buckets: [...DURATION_BUCKETS], help: HELP.outbox_processing_duration_seconds });
    this.#retries = new Counter({ name: 'outbox_retry_total', registers, labelNames: ['tenant'], help: HELP.outbox_retry_total });
    this.#attempts = new Counter({ name: 'outbox_attempts_total', registers, labelNames: ['tenant'], help: HELP.outbox_attempts_total });
    this.#conflicts = new Counter({ name: 'outbox_conflicts_total', registers, labelNames: ['tenant'], help: HELP.outbox_conflicts_total });
    this.#decisions = new Counter({ name: 'guardrail_decisions_total', registers, labelNames: ['guardrail', 'decision'], help: HELP.guardrail_decisions_total });
    // The gauges compute their value at scrape time (collect); the registry holds them.
    const lastMinute = this.#lastMinute;
    new Gauge({
      name: 'outbox_processed_per_minute', registers, help: HELP.outbox_processed_per_minute,
      collect() {
        this.set(lastMinute.total());
      },
    });
    const dlq = options.dlqSizeByTenant;
    new Gauge({
      name: 'outbox_dlq_size', registers, labelNames: ['tenant'], help: HELP.outbox_dlq_size,
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
      name: 'outbox_running', registers, labelNames: ['worker'], help: HELP.outbox_running,
      collect() {
        this.reset();
        for (const w of workers) this.set({ worker: w.id }, w.runningCount);
      },
    });
    this.#otel = options.meter ? this.#otelInstruments(options.meter, options) : undefined;
  }

  /**
   * The same metrics as OTel instruments. The gauges are observable: the SDK calls them
   * at each export, as Prometheus's scrape calls collect(). A gauge series a callback
   * does not observe is not exported (the exporter asks for that), matching reset() above.
   */
  #otelInstruments(meter: Meter, options: OutboxMetricsOptions): OtelInstruments {
    const counter = (name: keyof typeof HELP) => meter.createCounter(name, { description: HELP[name] });
    const lastMinute = this.#lastMinute;
    meter.createObservableGauge('outbox_processed_per_minute', { description: HELP.outbox_processed_per_minute })
      .addCallback((result) => result.observe(lastMinute.total()));
    const dlq = options.dlqSizeByTenant;
    if (dlq) {
      meter.createObservableGauge('outbox_dlq_size', { description: HELP.outbox_dlq_size }).addCallback(async (result) => {
        try {
          for (const { tenant_id, size } of await dlq()) result.observe(size, { tenant: tenant_id });
        } catch (error) {
          options.onCollectError?.(error);
        }
      });
    }
    const workers = this.#workers;
    meter.createObservableGauge('outbox_running', { description: HELP.outbox_running })
      .addCallback((result) => {
        for (const w of workers) result.observe(w.runningCount, { worker: w.id });
      });
    return {
      processed: counter('outbox_processed_total'),
      duration: meter.createHistogram('outbox_processing_duration_seconds', {
        description: HELP.outbox_processing_duration_seconds, unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
      }),
      retries: counter('outbox_retry_total'),
      attempts: counter('outbox_attempts_total'),
      conflicts: counter('outbox_conflicts_total'),
      decisions: counter('guardrail_decisions_total'),
    };
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
    const otel = this.#otel;
    const decision = guardrailLabels(completion);
    this.#decisions.inc(decision);
    otel?.decisions.add(1, decision);
    if (completion.attempted) {
      this.#attempts.inc({ tenant });
      otel?.attempts.add(1, { tenant });
      if (completion.latency_ms !== undefined) {
        this.#duration.observe(completion.latency_ms / 1000);
        otel?.duration.record(completion.latency_ms / 1000);
      }
    }
    if (completion.to === 'conflict') {
      this.#conflicts.inc({ tenant });
      otel?.conflicts.add(1, { tenant });
    }
    const status = processedStatus(completion);
    if (status === null) return;
    this.#processed.inc({ tenant, status });
    otel?.processed.add(1, { tenant, status });
    if (status === 'retry') {
      this.#retries.inc({ tenant });
      otel?.retries.add(1, { tenant });
    }
    this.#lastMinute.add();
  }

  /** Every metric in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
