import type { FastifyRequest } from 'fastify';
import type { Transaction } from '../../db/types.ts';
import type { Preferences } from './parse-headers.ts';
import type { CatalogTable, SchemaCatalog } from './catalog.ts';
import { restErrors } from './errors.ts';

// Small readers of a REST request shared by the handlers.

/** The query string as sent (after `?`), undecoded: parseQueryParams decodes it once. */
export function rawQuery(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The table or view a path names; PGRST205 (404) when the catalog has no such relation. */
export function tableOf(catalog: SchemaCatalog, name: string): CatalogTable {
  const table = catalog.tables.get(name);
  if (table) return table;
  checkPathName(name, 'table');
  throw restErrors.tableNotFound(name);
}

/**
 * What an unquoted PostgreSQL identifier can be: a letter (any script) or `_`, then
 * letters, marks, digits, `_` or `$`, at most 63 bytes (NAMEDATALEN - 1).
 */
const IDENTIFIER = /^[\p{L}_][\p{L}\p{M}\p{N}_$]*$/u;
const MAX_IDENTIFIER_BYTES = 63;

/**
 * A table or function name from the path that the catalog lacks: when it could not even
 * be an identifier (quotes, `;`, spaces, parentheses, dots, comment markers, over 63
 * bytes…) it is a malformed request, 400 PGRST100 naming the segment; a well-formed name
 * that simply does not exist stays PostgREST's 404 (PGRST205 / PGRST202). Names found in
 * the catalog are served whatever their spelling (a quoted `"My Table"` too).
 */
export function checkPathName(name: string, what: 'table' | 'function'): void {
  if (IDENTIFIER.test(name) && Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return;
  throw restErrors.invalidPathName(name, what);
}

/** Carries a result out of a transaction that must not commit (thrown, so the driver rolls back). */
class RolledBack<T> extends Error {
  readonly value: T;
  constructor(value: T) {
    super('rolled back on request (Prefer: tx=rollback)');
    this.value = value;
  }
}

/**
 * The request's one transaction (request.database.run); with `Prefer: tx=rollback` it
 * runs to the end and is then rolled back, the answer unchanged.
 */
export async function runTransaction<T>(request: FastifyRequest, prefs: Preferences, fn: (tx: Transaction) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  if (prefs.tx !== 'rollback') return request.database.run(fn, options);
  try {
    await request.database.run(async (tx) => {
      throw new RolledBack(await fn(tx));
    }, options);
  } catch (error) {
    if (error instanceof RolledBack) return error.value as T;
    throw error;
  }
  throw new Error('unreachable: a rolled-back transaction returned');
}
