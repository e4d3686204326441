import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { Access } from '../services/access.ts';
import { parseInput } from '../services/validation.ts';
import { jobName, validateJobChanges, type JobDefinition, type JobRun } from './job-definition.ts';
import { configureJob, getJob, latestRuns, listJobs, listRuns, setJobEnabled } from './job-queries.ts';
import { TickCalculator } from './schedule.ts';

/** A job as `jobs list` shows it: its definition, its last run and its next tick. */
export interface JobSummary extends JobDefinition {
  last_run: JobRun | null;
  /** The next tick after now (UTC); null while paused. */
  next_tick: Date | null;
}

const actor = z.string().trim().min(1).max(200);
const historyQuery = z.strictObject({ job: z.string().optional(), limit: z.number().int().min(1).max(10_000).default(50) });

/** Operating jobs: what `steward jobs …` (and later the console) do to definitions and read from the run log. */
export class SqlJobService {
  readonly #access: Access;
  readonly #clock: () => Date;

  constructor(access: Access, options: { clock?: () => Date } = {}) {
    this.#access = access;
    this.#clock = options.clock ?? (() => new Date());
  }

  async list(): Promise<JobSummary[]> {
    const { jobs, runs } = await this.#access.run(async (tx) => ({ jobs: await listJobs(tx), runs: await latestRuns(tx) }));
    const now = this.#clock();
    return jobs.map((job) => ({
      ...job,
      last_run: runs.find((r) => r.job_name === job.name) ?? null,
      next_tick: job.enabled ? new TickCalculator(job.schedule).next(now) : null,
    }));
  }

  /** The job named `name`; `not_found` naming it otherwise. */
  async get(name: string): Promise<JobDefinition> {
    const job = await this.#access.run((tx) => getJob(tx, this.#name(name)));
    if (!job) throw unknownJob(name);
    return job;
  }

  /** Scheduled ticks of a paused job do nothing, on either runner; run-now still runs it. */
  async pause(name: string, by: string): Promise<JobDefinition> {
    return this.#setEnabled(name, false, by);
  }

  /** Resuming counts missed ticks from now, not from when it was paused. */
  async resume(name: string, by: string): Promise<JobDefinition> {
    return this.#setEnabled(name, true, by);
  }

  async #setEnabled(name: string, enabled: boolean, by: string): Promise<JobDefinition> {
    const who = parseInput(actor, by, 'actor');
    const job = await this.get(name);
    return this.#access.run((tx) => setJobEnabled(tx, job.name, enabled, who));
  }

  /** Changes the schedule, timeout or arguments; anything invalid is refused before a write. */
  async configure(name: string, changes: unknown, by: string): Promise<JobDefinition> {
    const job = await this.get(name);
    const valid = validateJobChanges(job, changes);
    return this.#access.run((tx) => configureJob(tx, job.name, valid, parseInput(actor, by, 'actor')));
  }

  /** Runs newest first, of one job or all; an unknown job is `not_found`. */
  async history(query: { job?: string; limit?: number } = {}): Promise<JobRun[]> {
    const q = parseInput(historyQuery, query);
    if (q.job !== undefined) await this.get(q.job);
    return this.#access.run((tx) => listRuns(tx, q.job ?? null, q.limit));
  }

  #name(name: string): string {
    // A name that cannot exist is reported like one that does not.
    if (!jobName.safeParse(name).success) throw unknownJob(name);
    return name;
  }
}

export function unknownJob(name: string): StewardError {
  return new StewardError('not_found', `job ${name} not found (steward jobs list shows the jobs)`, { field: 'job' });
}
