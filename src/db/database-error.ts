import { StewardError } from '../errors.ts';

// Both drivers raise pg-protocol's DatabaseError shape (PGlite reuses pg-protocol), so
// this is the one place that turns a SQLSTATE into a Steward error.
interface PgErrorFields {
  code?: string;
  message: string;
  constraint?: string;
  column?: string;
  detail?: string;
  table?: string;
}

function isPgError(error: unknown): error is PgErrorFields & Error {
  return error instanceof Error && typeof (error as PgErrorFields).code === 'string' && /^[0-9A-Z]{5}$/.test((error as PgErrorFields).code ?? '');
}

/** The column a constraint is about: `outbox_tenant_id_fkey` → `tenant_id`. */
function fieldOf(err: PgErrorFields): string | undefined {
  if (err.column) return err.column;
  const keyMatch = /Key \((.+)\)=\(/.exec(err.detail ?? '');
  if (keyMatch?.[1]) return keyMatch[1].split(',').map((s) => s.trim()).filter((c) => c !== 'tenant_id').pop() ?? 'tenant_id';
  if (err.constraint && err.table) {
    const rest = err.constraint.startsWith(`${err.table}_`) ? err.constraint.slice(err.table.length + 1) : err.constraint;
    if (rest === 'pkey') return 'id';
    const col = rest.replace(/_(fkey|check|key|uidx|idx|pkey|not_null)$/, '');
    return col || undefined;
  }
  return undefined;
}

export function fromDatabaseError(error: unknown): unknown {
  if (!isPgError(error)) return error;
  const field = fieldOf(error);
  const opts = { ...(field ? { field } : {}), details: { sqlstate: error.code }, cause: error };
  switch (error.code) {
    case '23505':
      return new StewardError('conflict', field ? `${field} already exists` : error.message, opts);
    case '23001': // ON DELETE RESTRICT (PostgreSQL 18, hence PGlite)
      return new StewardError('conflict', `still referenced from ${error.table ?? 'another table'}`, opts);
    case '23503':
      // The same code for "a referenced row is missing" (insert) and "this row is still
      // referenced" (delete, PostgreSQL ≤ 17).
      if (/is still referenced from table/.test(error.detail ?? '')) {
        return new StewardError('conflict', `still referenced from ${error.table ?? 'another table'}`, opts);
      }
      return new StewardError('not_found', field ? `${field} refers to a row that does not exist` : error.message, opts);
    case '23514':
    case '23502':
    case '22P02':
    case '22023':
    case '22001':
    case '22003':
    case '22021': // a NUL character in text
    case '22P05': // \u0000 in jsonb
      return new StewardError('invalid_input', field ? `${field}: ${error.message}` : error.message, opts);
    case 'P0002': // no_data_found, raised by SQL functions for a missing (or hidden) row
      return new StewardError('not_found', error.message, opts);
    case '55000': // object_not_in_prerequisite_state: e.g. approving an envelope not awaiting approval
      return new StewardError('conflict', error.message, opts);
    case '42501':
      return new StewardError('forbidden', error.message, opts);
    default:
      return error;
  }
}
