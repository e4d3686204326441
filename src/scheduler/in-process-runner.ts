import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/database.ts';
import type { JobDefinition, JobRun } from './job-definition.ts';
import { listJobs, recordMissedTicks, skipJobTick } from './job-queries.ts';
import { LeaderLease } from './leader-lease.ts';
import { runJob } from './run-job.ts';
import { TickCalculator } from './schedule.ts';

export interface InProcessRunnerOptions {
  /** Names this process in the lease and in job_runs.runner_id; default host:pid:random. */
  runnerId?: string;
  /** Leader lease length; renewed (and definitions reloaded) every third of it. Default 15 s. */
  leaseSeconds?: number;
  /** Every row a tick produced (running rows once finished, skipped, missed). */
  onRun?: (run: JobRun) => void;
  /** Errors that did not stop the runner (a renewal or a run could not reach the database). */
  onError?: (error: unknown, context: string) => void;
}

interface ArmedJob {
  job: JobDefinition;
  ticks: TickCalculator;
  next: Date | null;
  timer: NodeJS.Timeout | undefined;
}

// Timers wait at most this long and then recompute, so a wall-clock jump or a suspended
// machine delays a tick by no more than this (croner's own cap is the same).
const MAX_WAIT_MS = 30_000;

export function defaultRunnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The scheduler where pg_cron is absent (PGlite, or a server without it): every process
 * running it keeps a timer per enabled job, computed by croner in UTC, and the one that
 * holds the leader lease fires the tick through runJob, the same SQL functions pg_cron's
 * procedure uses. On becoming leader it records the ticks nobody ran while no process
 * led (one `missed` row per job). Definitions are reloaded with every lease renewal, so
 * pause, resume and new schedules reach every process within a third of the lease.
 *
 * The timer is our own, not croner's: a run is recorded under the tick it belongs to
 * (the idempotency key of the run and of what it enqueues), and croner's callback only
 * says when its timer fired.
 */
export class InProcessRunner {
  readonly id: string;
  readonly #db: Database;
  readonly #lease: LeaderLease;
  readonly #options: InProcessRunnerOptions;
  readonly #armed = new Map<string, ArmedJob>();
  /** Runs in flight in this process, by job: their run id once begun. */
  readonly #inFlight = new Map<string, { runId: number | null; done: Promise<void> }>();
  #heartbeat: NodeJS.Timeout | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(db: Database, options: InProcessRunnerOptions = {}) {
    this.#db = db;
    this.#options = options;
    this.id = options.runnerId ?? defaultRunnerId();
    this.#lease = new LeaderLease(db, this.id, options.leaseSeconds ?? 15);
  }

  get isLeader(): boolean {
    return this.#lease.isLeader();
  }

  /** The jobs this runner keeps timers for (the enabled ones), by name. */
  get jobs(): string[] {
    return [...this.#armed.keys()].sort();
  }

  /** Loads the definitions and tries for the lease once before resolving; then keeps at it. */
  async start(): Promise<void> {
    await this.#beat();
  }

  /** Stops firing, lets runs in flight finish, and hands the lease on. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      clearTimeout(this.#heartbeat);
      for (const armed of this.#armed.values()) clearTimeout(armed.timer);
      this.#armed.clear();
      await Promise.all([...this.#inFlight.values()].map((f) => f.done));
      await this.#lease.release().catch((error: unknown) => this.#options.onError?.(error, 'releasing the scheduler lease'));
    })();
    return this.#stopping;
  }

  async #beat(): Promise<void> {
    try {
      const wasLeader = this.#lease.isLeader();
      const leads = await this.#lease.renew();
      const jobs = await this.#db.asService((tx) => listJobs(tx));
      if (this.#stopped) return;
      if (leads && !wasLeader) await this.#recordMissed(jobs);
      this.#reconcile(jobs);
    } catch (error) {
      this.#options.onError?.(error, 'renewing the scheduler lease');
    } finally {
      if (!this.#stopped) {
        this.#heartbeat = setTimeout(() => void this.#beat(), (this.#lease.ttlSeconds * 1000) / 3);
      }
    }
  }

  async #recordMissed(jobs: JobDefinition[]): Promise<void> {
    const now = new Date();
    for (const job of jobs.filter((j) => j.enabled)) {
      const missed = await this.#db.asService((tx) => recordMissedTicks(tx, job.name, now, 'in_process', this.id));
      if (missed) this.#options.onRun?.(missed);
    }
  }

  /** Timers for exactly the enabled jobs, each on its current schedule. */
  #reconcile(jobs: JobDefinition[]): void {
    const wanted = new Map(jobs.filter((j) => j.enabled).map((j) => [j.name, j]));
    for (const [name, armed] of this.#armed) {
      const job = wanted.get(name);
      if (!job || job.schedule !== armed.job.schedule) {
        clearTimeout(armed.timer);
        this.#armed.delete(name);
      } else {
        armed.job = job;
      }
    }
    for (const [name, job] of wanted) {
      if (this.#armed.has(name)) continue;
      const ticks = new TickCalculator(job.schedule);
      const armed: ArmedJob = { job, ticks, next: ticks.next(new Date()), timer: undefined };
      this.#armed.set(name, armed);
      this.#arm(armed);
    }
  }

  #arm(armed: ArmedJob): void {
    if (!armed.next || this.#stopped) return;
    const wait = Math.min(Math.max(armed.next.getTime() - Date.now(), 0), MAX_WAIT_MS);
    armed.timer = setTimeout(() => this.#onTimer(armed), wait);
  }

  #onTimer(armed: ArmedJob): void {
    if (this.#armed.get(armed.job.name) !== armed || !armed.next) return;
    const now = new Date();
    if (now < armed.next) return this.#arm(armed);
    const tick = armed.next;
    // Ticks passed while the process was suspended are not fired one by one: begin_job_run
    // records them as missed when this one runs.
    armed.next = armed.ticks.next(now > tick ? now : tick);
    this.#arm(armed);
    if (this.#lease.isLeader()) this.#fire(armed.job, tick);
  }

  #fire(job: JobDefinition, tick: Date): void {
    const busy = this.#inFlight.get(job.name);
    if (busy) {
      // Our own previous run is still going: on PGlite the database could only tell once
      // it ended, so say it now.
      void this.#db.asService((tx) => skipJobTick(tx, job.name, 'in_process', tick, this.id, busy.runId))
        .then((skipped) => skipped && this.#options.onRun?.(skipped))
        .catch((error: unknown) => this.#options.onError?.(error, `recording a skipped tick of ${job.name}`));
      return;
    }
    const flight: { runId: number | null; done: Promise<void> } = { runId: null, done: Promise.resolve() };
    flight.done = runJob(this.#db, {
      job: job.name, runner: 'in_process', tick, runnerId: this.id,
      onBegin: (run) => {
        flight.runId = run.id;
      },
    })
      .then((run) => {
        if (run) this.#options.onRun?.(run);
      })
      .catch((error: unknown) => this.#options.onError?.(error, `running ${job.name}`))
      .finally(() => this.#inFlight.delete(job.name));
    this.#inFlight.set(job.name, flight);
  }
}
