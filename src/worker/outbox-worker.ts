import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/database.ts';
import { completionForDecision, completionForExecution, type Completion, type ExecutionEnd } from '../domain/envelope-outcome.ts';
import { evaluateGuardrails } from '../domain/guardrails.ts';
import { DEFAULT_RETRY_POLICIES, type RetryPolicies } from '../domain/retry-policy.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import { ExecutionError, type Executor } from './executor.ts';
import { isSystemTool } from './executors/routing-executor.ts';
import { CompletionBatcher } from './completion-batcher.ts';
import { claimEnvelopes, completeEnvelopes, extendLeases, loadGuardrailContexts, recoverExpiredLeases, type CompletionApplied, type GuardrailContext } from './outbox-queries.ts';
import { Wakeup } from './wakeup.ts';

export interface OutboxWorkerOptions {
  /** Identifies this worker in leases and audit rows; default host:pid:random. */
  workerId?: string;
  /** Envelopes executing at once in this worker. */
  concurrency?: number;
  /**
   * Envelopes claimed per round trip. Claimed envelopes beyond `concurrency` wait in a
   * local queue (leased, so no other worker takes them) and the next claim overlaps
   * their execution: the worker holds at most concurrency + batchSize.
   */
  batchSize?: number;
  /** A lease's length; it is renewed every third of it while the worker holds the envelope. */
  leaseSeconds?: number;
  /** The longest an execution may take before it is aborted (a retryable failure). */
  executionTimeoutMs?: number;
  /** Idle poll: the correctness floor when no NOTIFY arrives (≤ 1 s). */
  pollIntervalMs?: number;
  retryPolicies?: RetryPolicies;
  clock?: () => Date;
  random?: () => number;
  /** Called for each applied completion (telemetry, logs, tests). */
  onCompleted?: (envelope: OutboxEnvelope, completion: Completion, applied: CompletionApplied) => void;
  /** Called for each background failure, with where it happened (logs). */
  onError?: (error: unknown, context: WorkerErrorContext) => void;
  /** Called with the envelopes taken back from expired leases (abandoned, or dead-lettered past the tier's maximum). */
  onRecovered?: (recovered: RecoveredLease[]) => void;
}

export interface WorkerErrorContext {
  phase: 'listen' | 'loop' | 'heartbeat' | 'complete';
  /** The envelopes the failure concerns, where there are some. */
  envelope_ids?: string[];
}

export interface RecoveredLease {
  id: string;
  status: string;
}

export interface BatchSummary {
  claimed: number;
  completed: number;
}

/**
 * The outbox worker: claims due envelopes, judges each against its tenant's guardrails,
 * executes the allowed ones, and records every outcome through the SQL transitions. All
 * state lives in rows (leases, attempts, next_run_at); a worker killed at any moment
 * loses nothing: its leases expire and another worker (or this one, restarted)
 * recovers them.
 */
export class OutboxWorker {
  readonly id: string;
  readonly #db: Database;
  readonly #executor: Executor;
  readonly #opts: Required<Omit<OutboxWorkerOptions, 'workerId' | 'onCompleted' | 'onError' | 'onRecovered'>> & Pick<OutboxWorkerOptions, 'onCompleted' | 'onError' | 'onRecovered'>;
  /** Claimed and not yet recorded: what the heartbeat keeps leased. */
  readonly #held = new Map<string, OutboxEnvelope>();
  /** Claimed, allowed by the guardrails, not started yet. */
  #waiting: Queued[] = [];
  readonly #running = new Map<string, OutboxEnvelope>();
  readonly #wakeup = new Wakeup();
  readonly #stop = new AbortController();
  readonly #completions: CompletionBatcher;
  #loop: Promise<void> | undefined;
  /** performance.now() when the live loop last began an iteration; undefined when it is not running. */
  #beatAt: number | undefined;

  constructor(db: Database, executor: Executor, options: OutboxWorkerOptions = {}) {
    this.#db = db;
    this.#executor = executor;
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#opts = {
      concurrency: options.concurrency ?? 8,
      batchSize: options.batchSize ?? 10,
      leaseSeconds: options.leaseSeconds ?? 30,
      executionTimeoutMs: options.executionTimeoutMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      retryPolicies: options.retryPolicies ?? DEFAULT_RETRY_POLICIES,
      clock: options.clock ?? (() => new Date()),
      random: options.random ?? Math.random,
      onCompleted: options.onCompleted,
      onError: options.onError,
      onRecovered: options.onRecovered,
    };
    this.#completions = new CompletionBatcher((completions) => this.#db.asService((tx) => completeEnvelopes(tx, this.id, completions, this.#opts.clock())));
  }

  /** Claims one batch, runs it to the end and records every outcome (`outbox start --once`). */
  async runOnce(): Promise<BatchSummary> {
    await this.#recover();
    const stopHeartbeat = this.#startHeartbeat();
    try {
      const batch = await this.#claim(this.#opts.batchSize);
      const recorded = this.#process(batch);
      await Promise.all(recorded);
      return { claimed: batch.claimed.length, completed: recorded.length };
    } finally {
      stopHeartbeat();
    }
  }

  /** Runs until stop(): claims whenever it has capacity and there is work. */
  start(): void {
    if (this.#loop) throw new Error('worker already started');
    this.#loop = this.#run();
  }

  /** Stops claiming, lets running envelopes finish (their leases cover them), and returns. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wakeup.wake();
    await this.#loop;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * The live loop (start()) is running and began an iteration recently: what /healthz
   * reports. An idle loop iterates at least every poll interval, so a loop stuck in one
   * statement (a hung connection) goes stale. The window is generous (5 polls, at least
   * 5 s) so that one slow claim or GC pause does not make a liveness probe restart a
   * healthy worker. Monotonic time: the injectable clock is for envelope times only.
   * False before start(), from stop() on, and for runOnce(), which has no loop.
   */
  get isAlive(): boolean {
    if (this.#beatAt === undefined || this.#stop.signal.aborted) return false;
    return performance.now() - this.#beatAt <= Math.max(5 * this.#opts.pollIntervalMs, 5000);
  }

  async #run(): Promise<void> {
    const unlisten = await this.#db.driver.listen('steward_outbox', (payload) => {
      if (claimable(payload)) this.#wakeup.wake();
    }).catch((error: unknown) => {
      this.#opts.onError?.(error, { phase: 'listen' }); // no LISTEN: the poll alone keeps the worker going
      return undefined;
    });
    const inFlight = new Set<Promise<unknown>>();
    const stopHeartbeat = this.#startHeartbeat();
    let lastRecovery = 0;
    // The loop is waiting for room in its own queue, not for new work.
    let waitingForRoom = false;
    try {
      while (!this.#stop.signal.aborted) {
        this.#beatAt = performance.now();
        try {
          if (Date.now() - lastRecovery > (this.#opts.leaseSeconds * 1000) / 2) {
            lastRecovery = Date.now();
            await this.#recover();
          }
          // Claim while the local queue has room for half a batch or more (tiny claims
          // cost a round trip each); any recorded outcome wakes the loop to look again.
          const room = Math.min(this.#opts.batchSize, this.#opts.concurrency + this.#opts.batchSize - this.#held.size);
          const limit = this.#held.size === 0 || room * 2 >= this.#opts.batchSize ? room : 0;
          waitingForRoom = limit === 0;
          const batch = limit > 0 ? await this.#claim(limit) : undefined;
          for (const done of batch ? this.#process(batch) : []) {
            inFlight.add(done);
            void done.finally(() => {
              inFlight.delete(done);
              // Room in the queue, and maybe the tenant's next envelope is due. A listening
              // worker idle for want of work hears this from the completion's own NOTIFY
              // (waking here as well would cost an empty claim per outcome). One waiting for
              // room must wake here: that NOTIFY can arrive before this envelope leaves
              // #held, and the loop would then find no room and sleep until the next poll.
              if (!unlisten || waitingForRoom) this.#wakeup.wake();
            });
          }
          // A full batch suggests more work: claim again at once; otherwise wait.
          if (!batch || batch.claimed.length < limit) await this.#wakeup.wait(this.#opts.pollIntervalMs);
        } catch (error) {
          this.#opts.onError?.(error, { phase: 'loop' });
          await this.#wakeup.wait(this.#opts.pollIntervalMs); // database down: retry at poll pace
        }
      }
      this.#releaseWaiting();
      await Promise.allSettled(inFlight);
    } finally {
      stopHeartbeat();
      this.#beatAt = undefined;
      await unlisten?.();
    }
  }

  /** Claims up to `limit` envelopes and loads what their guardrails need: one transaction. */
  async #claim(limit: number): Promise<ClaimedBatch> {
    return this.#db.asService(async (tx) => {
      const claimed = await claimEnvelopes(tx, this.id, limit, this.#opts.leaseSeconds, this.#opts.clock());
      const contexts = claimed.length === 0 ? new Map<string, GuardrailContext>() : await loadGuardrailContexts(tx, claimed.map((e) => e.id));
      return { claimed, contexts };
    });
  }

  async #recover(): Promise<void> {
    const recovered = await this.#db.asService((tx) => recoverExpiredLeases(tx, this.#opts.retryPolicies, this.#opts.clock()));
    if (recovered.length > 0) this.#opts.onRecovered?.(recovered);
  }

  /**
   * Judges each claimed envelope: the ones a guardrail stops are recorded at once (they
   * share one write), the allowed ones queue for execution. Returns a promise per
   * envelope that settles once its outcome is recorded (or given up to lease recovery).
   */
  #process({ claimed, contexts }: ClaimedBatch): Promise<void>[] {
    const now = this.#opts.clock();
    const recorded: Promise<void>[] = [];
    for (const envelope of claimed) {
      const ctx = contexts.get(envelope.id);
      if (!ctx) continue; // removed meanwhile; nothing to record
      this.#held.set(envelope.id, envelope);
      // Steward's own work (catalog refreshes…): only the service role enqueues these, and
      // the guardrails are about acting on a tenant's accounts, so quiet hours and trust
      // do not apply.
      if (isSystemTool(envelope.tool_slug)) {
        recorded.push(new Promise((resolve) => this.#waiting.push({ envelope, decision: { system: true }, done: resolve })));
        continue;
      }
      const decision = evaluateGuardrails({
        now, timeZone: ctx.timezone, guardrails: ctx.guardrails, requiredScopes: ctx.required_scopes,
        grantedScopes: ctx.granted_scopes, accountStatus: ctx.account_status, trustContext: envelope.trust_context,
        evidenceCount: ctx.evidence_count, approved: envelope.approved_at !== null,
      });
      if (decision.outcome === 'execute') {
        recorded.push(new Promise((resolve) => this.#waiting.push({ envelope, decision: { checks: decision.checks }, done: resolve })));
      } else {
        recorded.push(this.#record(envelope, completionForDecision(envelope.id, decision)));
      }
    }
    this.#dispatch();
    return recorded;
  }

  /** Starts waiting envelopes while fewer than `concurrency` run. */
  #dispatch(): void {
    while (this.#running.size < this.#opts.concurrency) {
      const next = this.#waiting.shift();
      if (!next) return;
      void this.#execute(next.envelope, next.decision).finally(next.done);
    }
  }

  /**
   * Stopping: envelopes claimed but never started go back to pending at once (attempts
   * unchanged), rather than waiting for their leases to expire or holding up the stop.
   */
  #releaseWaiting(): void {
    for (const { envelope, done } of this.#waiting.splice(0)) {
      void this.#record(envelope, { id: envelope.id, to: 'pending', transition: 'release', attempted: false }).finally(done);
    }
  }

  /** One timer renews the leases of everything this worker holds, in one statement. */
  #startHeartbeat(): () => void {
    const timer = setInterval(() => {
      if (this.#held.size === 0) return;
      const ids = [...this.#held.keys()];
      void this.#db.asService((tx) => extendLeases(tx, this.id, ids, this.#opts.leaseSeconds, this.#opts.clock()))
        .catch((error: unknown) => this.#opts.onError?.(error, { phase: 'heartbeat', envelope_ids: ids }));
    }, (this.#opts.leaseSeconds * 1000) / 3);
    return () => clearInterval(timer);
  }

  async #execute(envelope: OutboxEnvelope, decision: unknown): Promise<void> {
    this.#running.set(envelope.id, envelope);
    const started = performance.now();
    let end: ExecutionEnd;
    try {
      // Only the timeout aborts: stopping the worker lets running envelopes finish.
      const signal = AbortSignal.timeout(this.#opts.executionTimeoutMs);
      const { result } = await this.#executor.execute(envelope, { idempotencyKey: envelope.external_id, signal });
      end = { kind: 'success', result };
    } catch (error) {
      end = classify(error);
    } finally {
      // The slot is for executions: writing the outcome does not hold it, so outcomes
      // gather into larger group commits while the next envelopes run.
      this.#running.delete(envelope.id);
      this.#dispatch();
    }
    const completion = completionForExecution({
      id: envelope.id, attempts: envelope.attempts, policy: this.#opts.retryPolicies[envelope.risk], end,
      now: this.#opts.clock(), random: this.#opts.random, latencyMs: performance.now() - started,
    });
    await this.#record(envelope, { ...completion, decision });
  }

  /** Writes one outcome (batched with others in flight). Never throws: an unrecorded outcome is recovered through its lease. */
  async #record(envelope: OutboxEnvelope, completion: Completion): Promise<void> {
    try {
      const applied = await this.#completions.add(completion);
      if (applied) this.#opts.onCompleted?.(envelope, completion, applied);
    } catch (error) {
      this.#opts.onError?.(error, { phase: 'complete', envelope_ids: [envelope.id] });
    } finally {
      this.#held.delete(envelope.id);
    }
  }
}

interface Queued {
  envelope: OutboxEnvelope;
  decision: unknown;
  done: () => void;
}

interface ClaimedBatch {
  claimed: OutboxEnvelope[];
  contexts: Map<string, GuardrailContext>;
}

function classify(error: unknown): ExecutionEnd {
  if (error instanceof ExecutionError) {
    return { kind: error.kind, error: error.message, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'retryable', error: `execution aborted: ${error.message}` };
  }
  return { kind: 'retryable', error: error instanceof Error ? error.message : String(error) };
}

/** Whether a steward_outbox NOTIFY says anything became claimable. */
function claimable(payload: string): boolean {
  try {
    return ((JSON.parse(payload) as { claimable?: number }).claimable ?? 1) > 0;
  } catch {
    return true;
  }
}
