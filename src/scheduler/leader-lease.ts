import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import { acquireSchedulerLease, releaseSchedulerLease } from './job-queries.ts';

/**
 * The in-process runners' leader lease (steward.scheduler_leases): among any number of
 * processes on one database, the one holding it fires the ticks. The holder renews it
 * well before it expires; if the holder dies, another takes it once it has expired.
 *
 * Leadership is believed locally until `ttl` after the renewal was *sent* (monotonic
 * clock), which is never later than the database's expiry, so two processes do not both
 * believe they lead (barring a pause longer than the margin). Even then a tick cannot
 * run twice: steward.job_runs holds one row per tick.
 */
export class LeaderLease {
  readonly holder: string;
  readonly ttlSeconds: number;
  readonly #db: Database;
  #validUntil = -Infinity;

  constructor(db: Database, holder: string, ttlSeconds: number) {
    this.#db = db;
    this.holder = holder;
    this.ttlSeconds = ttlSeconds;
  }

  isLeader(): boolean {
    return performance.now() < this.#validUntil;
  }

  /**
   * Acquires or renews; true when this process now leads. When the attempt throws (the
   * database is unreachable), the belief from the last renewal runs out on its own.
   */
  async renew(): Promise<boolean> {
    const sent = performance.now();
    const expires = await this.#db.asService((tx) => acquireSchedulerLease(tx, this.holder, this.ttlSeconds));
    // A margin of a tenth of the ttl (at most a second) for clock rates and the reply's trip.
    this.#validUntil = expires ? sent + this.ttlSeconds * 1000 - Math.min(1000, this.ttlSeconds * 100) : -Infinity;
    return this.isLeader();
  }

  /** Lets another process take over at its next attempt instead of waiting for expiry. */
  async release(): Promise<void> {
    this.#validUntil = -Infinity;
    await this.#db.asService((tx) => releaseSchedulerLease(tx, this.holder));
  }
}
