import { fromDatabaseError } from '../../db/database-error.ts';
import { StewardError } from '../../errors.ts';

// PostgREST answers a failed statement with the SQLSTATE and PostgreSQL's message and
// detail, but without the constraint, table and column fields the driver's error has.
// They are recovered from the message, so that fromDatabaseError, the one place a
// SQLSTATE becomes a StewardError, maps REST failures exactly as it maps SQL ones.

/** The error body supabase-js hands back (PostgrestError). */
export interface RestErrorBody {
  code?: string;
  message: string;
  details?: string | null;
  hint?: string | null;
}

const CONSTRAINT_PATTERNS: readonly RegExp[] = [
  /relation "(?<table>[^"]+)" violates check constraint "(?<constraint>[^"]+)"/,
  /on table "(?<table>[^"]+)" violates foreign key constraint "(?<constraint>[^"]+)"/,
  /violates unique constraint "(?<constraint>[^"]+)"/,
  /null value in column "(?<column>[^"]+)" of relation "(?<table>[^"]+)"/,
];

/** A pg-protocol-shaped error rebuilt from a PostgREST body. */
class RestDatabaseError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(body: RestErrorBody & { code: string }) {
    super(body.message);
    this.code = body.code;
    this.detail = body.details ?? undefined;
    this.hint = body.hint ?? undefined;
    let groups: Record<string, string> = {};
    for (const pattern of CONSTRAINT_PATTERNS) {
      const match = pattern.exec(body.message);
      if (match?.groups) {
        groups = match.groups;
        break;
      }
    }
    this.constraint = groups.constraint;
    this.table = groups.table;
    this.column = groups.column;
  }
}

/** PostgREST's own codes that mean "the request was malformed": the caller's input. */
const INPUT_CODES = new Set(['PGRST100', 'PGRST102', 'PGRST204', '42703']);
/** Authentication and authorization failures of the API itself (bad, expired or missing JWT). */
const AUTH_CODES = new Set(['PGRST301', 'PGRST302', 'PGRST303']);

/** The StewardError a failed REST call stands for (same code and field as over SQL). */
export function fromRestError(body: RestErrorBody): StewardError {
  const code = body.code ?? '';
  if (/^[0-9A-Z]{5}$/.test(code)) {
    const mapped = fromDatabaseError(new RestDatabaseError({ ...body, code }));
    if (mapped instanceof StewardError) return mapped;
  }
  if (INPUT_CODES.has(code)) return new StewardError('invalid_input', body.message, { details: { rest_code: code } });
  if (AUTH_CODES.has(code)) return new StewardError('forbidden', body.message, { details: { rest_code: code } });
  return new StewardError('internal', `REST call failed: ${code ? `${code} ` : ''}${body.message}`, {
    details: { rest_code: code, ...(body.details ? { rest_details: body.details } : {}) },
  });
}

/** What every supabase-js query resolves to. */
export interface RestResult<T> {
  data: T | null;
  error: RestErrorBody | null;
}

/** The result's data, or its error as a StewardError. */
export async function unwrap<T>(query: PromiseLike<RestResult<T>>): Promise<T | null> {
  const { data, error } = await query;
  if (error) throw fromRestError(error);
  return data;
}

/** Like unwrap, for queries that always answer (lists, inserts with a representation). */
export async function unwrapAll<T>(query: PromiseLike<RestResult<T>>): Promise<T> {
  const data = await unwrap(query);
  if (data === null) throw new StewardError('internal', 'REST call returned no representation');
  return data;
}
