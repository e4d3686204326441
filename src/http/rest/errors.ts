import { StewardError } from '../../errors.ts';
import { ApiError } from '../api-error.ts';

// PostgREST's errors, with its codes, messages and statuses (src/PostgREST/Error.hs), so
// supabase-js callers see what they would see against Supabase.

export const restErrors = {
  /** PGRST100: a query parameter that does not parse. */
  queryParam: (message: string, details: string): ApiError => new ApiError(400, 'PGRST100', message, { details }),
  /** PGRST102: a body that is not the JSON this request needs. */
  invalidBody: (message: string, details?: string): ApiError => new ApiError(400, 'PGRST102', message, { details: details ?? null }),
  /** PGRST103: an offset past the end of a counted result. */
  invalidRange: (details: string, headers?: Record<string, string>): ApiError => new ApiError(416, 'PGRST103', 'Requested range not satisfiable', { details, ...(headers ? { headers } : {}) }),
  unacceptableSchema: (schema: string): ApiError =>
    new ApiError(406, 'PGRST106', `Invalid schema: ${schema}`, { hint: 'Only the following schemas are exposed: public' }),
  mediaType: (types: string): ApiError => new ApiError(406, 'PGRST107', `None of these media types are available: ${types}`),
  notEmbedded: (resource: string): ApiError =>
    new ApiError(400, 'PGRST108', `'${resource}' is not an embedded resource in this request`, { hint: `Verify that '${resource}' is included in the 'select' query parameter.` }),
  singularity: (rows: number): ApiError =>
    new ApiError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', { details: `The result contains ${rows} rows` }),
  unsupportedMethod: (method: string): ApiError => new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`),
  invalidRpcMethod: (method: string): ApiError => new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`),
  aggregatesNotAllowed: (): ApiError => new ApiError(400, 'PGRST123', 'Use of aggregate functions is not allowed'),
  notImplemented: (details: string): ApiError => new ApiError(400, 'PGRST127', 'Feature not implemented', { details }),
  noRelationship: (parent: string, child: string, hint?: string): ApiError =>
    new ApiError(400, 'PGRST200', `Could not find a relationship between '${parent}' and '${child}' in the schema cache`, {
      details: `Searched for a foreign key relationship between '${parent}' and '${child}'${hint === undefined ? '' : ` using the hint '${hint}'`} in the schema 'public', but no matches were found.`,
    }),
  ambiguousRelationship: (parent: string, child: string, constraints: readonly string[]): ApiError =>
    new ApiError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${parent}' and '${child}'`, {
      details: constraints.join(', '),
      hint: `Try changing '${child}' to one of the following: ${constraints.map((c) => `'${child}!${c}'`).join(', ')}. Find the desired relationship in the 'details' key.`,
    }),
  noFunction: (name: string, args: readonly string[]): ApiError => {
    const list = [...args].sort();
    return new ApiError(404, 'PGRST202', `Could not find the function public.${name}${list.length === 0 ? ' without parameters' : `(${list.join(', ')})`} in the schema cache`, {
      details: `Searched for the function public.${name}${list.length === 0 ? ' without parameters' : ` with parameter${list.length > 1 ? 's' : ''} ${list.join(', ')}`}, but no matches were found in the schema cache.`,
    });
  },
  ambiguousFunction: (name: string): ApiError =>
    new ApiError(300, 'PGRST203', `Could not choose the best candidate function between several overloads of public.${name}`, {
      hint: 'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    }),
  /** PGRST204: a payload or `columns` key that is not a column. */
  columnNotFound: (table: string, column: string): ApiError =>
    new ApiError(400, 'PGRST204', `Could not find the '${column}' column of '${table}' in the schema cache`),
  tableNotFound: (table: string): ApiError => new ApiError(404, 'PGRST205', `Could not find the table 'public.${table}' in the schema cache`),
  /** 42703, as PostgreSQL reports an unknown column in select, filters and order. */
  undefinedColumn: (table: string, column: string): ApiError => new ApiError(400, '42703', `column ${table}.${column} does not exist`),
  /** PGRST100 for a path segment that cannot name a table or function (request-parts.ts checkPathName). */
  invalidPathName: (segment: string, what: 'table' | 'function'): ApiError => {
    const shown = segment.length > 100 ? `${segment.slice(0, 100)}…` : segment;
    return new ApiError(400, 'PGRST100', `"failed to parse ${what} name in the path (${shown})"`, {
      details: `'${shown}' is not a valid ${what} name: an identifier is a letter or underscore followed by letters, digits, underscores or $, at most 63 bytes`,
      hint: `Request a ${what} of schema 'public' by its name alone`,
    });
  },
  /** A 404 for paths that are no resource at all. */
  invalidPath: (): ApiError => new ApiError(404, 'PGRST125', 'Invalid path specified in request URL'),
};

interface PgErrorFields {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function pgErrorOf(error: unknown): PgErrorFields | undefined {
  // Database.asTenant/asService hand out StewardErrors whose cause is the driver's error.
  const candidate = error instanceof StewardError ? error.cause : error;
  if (candidate instanceof Error && typeof (candidate as Partial<PgErrorFields>).code === 'string' && /^[0-9A-Z]{5}$/.test((candidate as unknown as PgErrorFields).code)) {
    return candidate as Error & PgErrorFields;
  }
  return undefined;
}

/**
 * A database error as PostgREST answers it: its SQLSTATE, message, detail and hint in the
 * body, the status from the SQLSTATE. `authed` is whether the request had a role other
 * than anon: a privilege or RLS refusal (42501) is then 403, for anon 401.
 */
export function fromDatabaseFailure(error: unknown, authed: boolean): ApiError | undefined {
  const pg = pgErrorOf(error);
  if (!pg) return undefined;
  const status = statusOfSqlState(pg.code, pg.message, authed);
  return new ApiError(status, pg.code, pg.message, {
    details: pg.detail ?? null,
    hint: pg.hint ?? null,
    ...(status === 401 ? { headers: { 'WWW-Authenticate': 'Bearer' } } : {}),
    cause: error,
  });
}

export function statusOfSqlState(code: string, message: string, authed: boolean): number {
  if (code === '42501') return authed ? 403 : 401;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  if (code === '22023') return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (code === 'P0001') return 400;
  // Deviations from PostgREST (which answers 500 for both): Steward's own functions raise
  // no_data_found for a row that is missing or another tenant's, and
  // object_not_in_prerequisite_state for a transition the row's state forbids.
  if (code === 'P0002') return 404;
  if (code === '55000') return 409;
  if (code === '53400') return 500;
  if (code === '57P01') return 503;
  const prefix = code.slice(0, 2);
  switch (prefix) {
    case '08': case '53': return 503;
    case '0L': case '0P': case '28': return 403;
    case '09': case '25': case '2D': case '38': case '39': case '3B': case '40': case '54': case '55':
    case '57': case '58': case 'F0': case 'HV': case 'P0': case 'XX':
      return 500;
    case 'PT': {
      const n = Number(code.slice(2));
      return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 500;
    }
    default:
      return 400;
  }
}
