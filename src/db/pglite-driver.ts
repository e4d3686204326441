import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Driver, QueryResult, Session, Transaction, TransactionOptions } from './types.ts';
import { INT8_OID, NUMERIC_OID, parseInt8, parseNumeric } from './type-parsers.ts';

interface PGliteQueryable {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(script: string): Promise<unknown>;
}

function wrap(q: PGliteQueryable): Transaction {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await q.query<R>(text, [...params]);
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(script: string): Promise<void> {
      await q.exec(script);
    },
  };
}

export interface PGliteDriverOptions {
  /** A directory to persist to; omitted = in memory. */
  dataDir?: string;
  /** A tarball from `dumpDataDir()` to start from (test templates). */
  loadDataDir?: Blob;
}

/**
 * PGlite: PostgreSQL compiled to WASM, in this process. It has exactly one session, and
 * PGlite itself serialises transactions and queries on it, so `withSession` simply
 * hands that session out. Session-level `SET ROLE` would leak to every caller, which
 * is why the tenant context only ever uses transaction-local settings.
 */
export class PGliteDriver implements Driver {
  readonly engine = 'pglite' as const;
  readonly #db: PGlite;

  private constructor(db: PGlite) {
    this.#db = db;
  }

  static async open(options: PGliteDriverOptions = {}): Promise<PGliteDriver> {
    const db = await PGlite.create({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      extensions: { vector },
      parsers: { [INT8_OID]: parseInt8, [NUMERIC_OID]: parseNumeric },
    });
    return new PGliteDriver(db);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.#db.transaction(async (tx) => {
      // PGlite issues BEGIN itself; SET TRANSACTION is valid as the first statement after it.
      if (options.readOnly) await tx.exec('set transaction read only');
      if (options.prelude) await tx.exec(options.prelude);
      return fn(wrap(tx));
    });
  }

  async withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    const session: Session = { ...wrap(this.#db), transaction: (f) => this.transaction(f) };
    return fn(session);
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.#db.listen(channel, onNotify);
    return async () => {
      if (!this.#db.closed) await unlisten();
    };
  }

  /** A copy of the whole database as a tarball (for test templates). */
  async dump(): Promise<Blob> {
    return this.#db.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
  }
}
