import pg from 'pg';
import type { Driver, QueryResult, Session, Transaction, TransactionOptions } from './types.ts';
import { INT8_OID, NUMERIC_OID, parseInt8, parseNumeric } from './type-parsers.ts';

const types = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === INT8_OID) return parseInt8;
    if (oid === NUMERIC_OID) return parseNumeric;
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
};

function wrap(client: pg.ClientBase): Transaction {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await client.query(text, [...params]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
    },
    async exec(script: string): Promise<void> {
      // No parameters: node-postgres uses the simple protocol, which runs several statements.
      await client.query(script);
    },
  };
}

const ignore = (): void => undefined;

/** Set when a transaction could not even be rolled back: the connection is unusable. */
interface ConnectionState {
  broken: boolean;
}

async function inTransaction<T>(client: pg.ClientBase, fn: (tx: Transaction) => Promise<T>, state: ConnectionState = { broken: false }, options: TransactionOptions = {}): Promise<T> {
  try {
    // Without parameters node-postgres uses the simple protocol: BEGIN and the prelude go
    // in one round trip (a failed BEGIN leaves no transaction; the rollback is harmless).
    const begin = options.readOnly ? 'begin read only' : 'begin';
    await client.query(options.prelude ? `${begin}; ${options.prelude}` : begin);
    const result = await fn(wrap(client));
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {
      state.broken = true;
    });
    throw error;
  }
}

export interface PostgresDriverOptions {
  connectionString: string;
  /** Pool size; default 10. */
  max?: number;
  applicationName?: string;
}

/** node-postgres over a pool: PostgreSQL 15+ and Supabase (`DATABASE_URL`). */
export class PostgresDriver implements Driver {
  readonly engine = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #options: PostgresDriverOptions;

  constructor(options: PostgresDriverOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'steward',
      types,
    });
    // An idle client that loses its connection must not crash the process; the next
    // checkout gets a fresh one.
    this.#pool.on('error', () => undefined);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const client = await this.#checkout();
    const state = { broken: false };
    try {
      return await inTransaction(client, fn, state, options);
    } finally {
      this.#checkin(client, state.broken);
    }
  }

  // A checked-out client whose backend dies between two queries emits 'error' on the
  // client (the pool listens only to idle ones); unheard, it would crash the process.
  // The failure surfaces anyway as the next query's rejection.
  async #checkout(): Promise<pg.PoolClient> {
    const client = await this.#pool.connect();
    client.on('error', ignore);
    return client;
  }

  #checkin(client: pg.PoolClient, destroy: boolean): void {
    client.removeListener('error', ignore);
    client.release(destroy);
  }

  async withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    const client = await this.#checkout();
    let broken = false;
    try {
      const session: Session = { ...wrap(client), transaction: (f) => inTransaction(client, f) };
      return await fn(session);
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      // A session may hold session state (advisory locks): never return it to the pool
      // after a failure, where that state could outlive the caller.
      this.#checkin(client, broken);
    }
  }

  /**
   * LISTEN on a connection of its own (a pooled one would be handed to others). When it
   * drops, it reconnects after a second; notifications in between are lost, which the
   * callers' polling covers.
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.#options.connectionString, application_name: `${this.#options.applicationName ?? 'steward'}-listen` });
      c.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      c.on('error', () => undefined);
      c.on('end', () => {
        if (!stopped) retry = setTimeout(() => void connect().catch(() => undefined), 1000).unref();
      });
      await c.connect();
      await c.query(`listen ${pg.escapeIdentifier(channel)}`);
      client = c;
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
