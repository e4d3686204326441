import assert from 'node:assert/strict';
import { fromDatabaseError } from '../../src/db/database-error.ts';
import { StewardError } from '../../src/errors.ts';

/**
 * How the database refused a statement, told apart by SQLSTATE and message (all three
 * refusals share SQLSTATE 42501, which Database maps to StewardError `forbidden`):
 *   - denied: the role lacks the privilege ("permission denied for table …");
 *   - rls_violation: a policy's WITH CHECK refused the new row ("new row violates
 *     row-level security policy …");
 *   - refused_by_trigger: audit_log's append-only trigger;
 *   - fk_restricted: a delete blocked by a foreign key (23503 on PostgreSQL 15, 23001
 *     on PostgreSQL 18 / PGlite; both mapped to `conflict`).
 */
export type Refusal = 'denied' | 'rls_violation' | 'refused_by_trigger' | 'fk_restricted';

export interface ClassifiedRefusal {
  refusal: Refusal;
  /** The restrictive policy named by an rls_violation, if the message names one. */
  policy?: string;
  message: string;
}

/**
 * Classifies an error from asTenant/asService (already mapped) or from the owner's
 * driver (raw; mapped here the same way). Anything else is rethrown, so an unexpected
 * error fails the test that met it.
 */
export function classifyRefusal(error: unknown, table: string): ClassifiedRefusal {
  const mapped = fromDatabaseError(error);
  if (!(mapped instanceof StewardError)) throw error;
  const sqlstate = mapped.details?.sqlstate;
  const message = mapped.message;
  if (mapped.code === 'forbidden' && sqlstate === '42501') {
    if (message === `permission denied for table ${table}`) return { refusal: 'denied', message };
    const rls = /^new row violates row-level security policy (?:"([^"]+)" )?for table "([^"]+)"$/.exec(message);
    if (rls && rls[2] === table) return { refusal: 'rls_violation', ...(rls[1] ? { policy: rls[1] } : {}), message };
    if (/^audit_log is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed$/.test(message)) return { refusal: 'refused_by_trigger', message };
  }
  if (mapped.code === 'conflict' && (sqlstate === '23503' || sqlstate === '23001')) return { refusal: 'fk_restricted', message };
  throw error;
}

/** Awaits `promise`, expecting it to be refused in exactly this way. */
export async function refusedWith(promise: Promise<unknown>, table: string, refusal: Refusal, policy?: string): Promise<ClassifiedRefusal> {
  let outcome: ClassifiedRefusal | undefined;
  try {
    await promise;
  } catch (error) {
    outcome = classifyRefusal(error, table);
  }
  assert.ok(outcome, `expected ${refusal} on ${table}, but the statement succeeded`);
  assert.equal(outcome.refusal, refusal, `expected ${refusal} on ${table}, got ${outcome.refusal}: ${outcome.message}`);
  if (policy !== undefined) assert.equal(outcome.policy, policy, `expected policy ${policy} to refuse: ${outcome.message}`);
  return outcome;
}

/** Thrown at the end of a callback to roll its transaction back, carrying what it saw. */
export class RolledBack<T> extends Error {
  readonly value: T;
  constructor(value: T) {
    super('rolled back on purpose');
    this.value = value;
  }
}

/** Runs `run(fn)` where fn throws RolledBack: returns its value; other errors propagate. */
export async function rolledBack<T>(run: Promise<unknown>): Promise<T> {
  try {
    await run;
  } catch (error) {
    if (error instanceof RolledBack) return error.value as T;
    throw error;
  }
  throw new Error('the transaction was expected to roll back, but it committed');
}
