import { fromDatabaseError } from './database-error.ts';
import { SERVICE_CONTEXT_PRELUDE, parseTenantClaims, setRequestContext, type TenantClaims } from './tenant-context.ts';
import type { Driver, Engine, Transaction, TransactionOptions } from './types.ts';

export interface ContextOptions {
  /** Run the transaction READ ONLY (PostgREST does for GET and HEAD). */
  readOnly?: boolean;
}

/**
 * The only way application code reaches tenant data. Each call is one transaction
 * whose role and JWT claims are set transaction-locally, so the database's RLS
 * policies decide what it may see and change:
 *   - asTenant(claims, fn): role `authenticated` (or `anon`), claims as given;
 *   - asService(fn): role `service_role`, for the worker, jobs and operators.
 * Database errors leave as StewardErrors where they have a meaning (see database-error).
 */
export class Database {
  readonly #driver: Driver;
  readonly #onClose: (() => Promise<void> | void) | undefined;

  constructor(driver: Driver, options: { onClose?: () => Promise<void> | void } = {}) {
    this.#driver = driver;
    this.#onClose = options.onClose;
  }

  get engine(): Engine {
    return this.#driver.engine;
  }

  /** The underlying driver: for the migration runner, seeds and tests only. */
  get driver(): Driver {
    return this.#driver;
  }

  async asTenant<T>(claims: TenantClaims, fn: (tx: Transaction) => Promise<T>, options: ContextOptions = {}): Promise<T> {
    const { role, ...rest } = parseTenantClaims(claims);
    return this.#run(async (tx) => {
      await setRequestContext(tx, role, rest);
      return fn(tx);
    }, { readOnly: options.readOnly ?? false });
  }

  /**
   * `claims` replaces the constant `{"role":"service_role"}` with a verified token's
   * claims (the API server, as PostgREST does); the role stays service_role whatever
   * they say.
   */
  async asService<T>(fn: (tx: Transaction) => Promise<T>, options: ContextOptions & { claims?: Record<string, unknown> } = {}): Promise<T> {
    const readOnly = options.readOnly ?? false;
    const claims = options.claims;
    if (claims === undefined) return this.#run(fn, { prelude: SERVICE_CONTEXT_PRELUDE, readOnly });
    return this.#run(async (tx) => {
      await setRequestContext(tx, 'service_role', claims);
      return fn(tx);
    }, { readOnly });
  }

  async #run<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    try {
      return await this.#driver.transaction(fn, options);
    } catch (error) {
      throw fromDatabaseError(error);
    }
  }

  async close(): Promise<void> {
    try {
      await this.#driver.close();
    } finally {
      await this.#onClose?.();
    }
  }
}
