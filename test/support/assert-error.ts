import assert from 'node:assert/strict';
import { StewardError, type ErrorCode } from '../../src/errors.ts';

/** Awaits `promise`, expecting a StewardError with this code (and field, if given). */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, field?: string): Promise<StewardError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StewardError, `expected a StewardError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
    if (field !== undefined) assert.equal(error.field, field, `expected field ${field}, got ${String(error.field)}: ${error.message}`);
    return error;
  }
  assert.fail(`expected a StewardError ${code}, but it resolved`);
}
