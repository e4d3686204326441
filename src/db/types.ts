// The small surface every driver provides. Kept to what Steward uses, so PGlite's
// single session and node-postgres's pool fit behind it alike (kysely's driver shape).

export type Engine = 'pglite' | 'postgres';

export interface QueryResult<R> {
  rows: R[];
  /** Rows changed by an INSERT/UPDATE/DELETE, or returned by a SELECT. */
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A transaction in progress. `exec` runs a multi-statement script without parameters. */
export interface Transaction extends Queryable {
  exec(script: string): Promise<void>;
}

/** One database session (a pinned pool connection, or PGlite's only session). */
export interface Session extends Transaction {
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

export interface TransactionOptions {
  prelude?: string;
  /** BEGIN READ ONLY: a statement that writes fails with 25006 (the API server's GET requests). */
  readOnly?: boolean;
}

export interface Driver {
  readonly engine: Engine;
  /**
   * Runs `fn` in a transaction on some session; commits on success, rolls back on throw.
   * `prelude` is a constant script run first, in the same round trip as BEGIN where the
   * driver can; never text built from input.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs `fn` on one session held for its whole duration (session-level advisory locks). */
  withSession<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` with each NOTIFY payload on `channel` until the returned function is
   * called. A listener is an optimisation: it may miss notifications (a dropped
   * connection), so callers keep a poll as their correctness floor.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
