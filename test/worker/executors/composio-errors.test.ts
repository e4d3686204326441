import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComposioError, type ComposioErrorKind } from '../../../src/integrations/composio/index.ts';
import { executionErrorOf, impliedAccountStatus, mayConcernAccount } from '../../../src/worker/executors/composio-errors.ts';

// The classification table of docs/implementation/composio-tooling.md, row by row.

const http = (kind: ComposioErrorKind, status: number, extra: { code?: number; slug?: string; retryAfterMs?: number } = {}) =>
  new ComposioError(kind, `Composio POST /tools/execute/X: HTTP ${status}`, { operation: 'POST /tools/execute/X', failure: 'http', status, ...extra });

describe('Composio errors → ExecutionError', () => {
  it('keeps retryable (with Retry-After), permanent and conflict; auth becomes permanent, naming the setting', () => {
    const retry = executionErrorOf(http('retryable', 429, { retryAfterMs: 7000 }));
    assert.deepEqual([retry.kind, retry.status, retry.retryAfterMs], ['retryable', 429, 7000]);
    assert.equal(executionErrorOf(http('permanent', 400)).kind, 'permanent');
    assert.equal(executionErrorOf(http('conflict', 409)).kind, 'conflict');
    const auth = executionErrorOf(http('auth', 401));
    assert.deepEqual([auth.kind, auth.status], ['permanent', 401]);
    assert.match(auth.message, /COMPOSIO_API_KEY/);
    const timeout = executionErrorOf(new ComposioError('retryable', 'no answer', { operation: 'x', failure: 'timeout' }));
    assert.deepEqual([timeout.kind, timeout.status], ['retryable', undefined]);
  });

  it('may concern the account: 410, 422, code 1803/1820, a connected-account slug; never 5xx, 409, 401 or a timeout', () => {
    for (const e of [http('permanent', 410), http('permanent', 422), http('permanent', 404, { code: 1803 }), http('permanent', 400, { slug: 'ConnectedAccount_Whatever' })]) {
      assert.equal(mayConcernAccount(e), true, e.message);
    }
    for (const e of [http('retryable', 503), http('conflict', 409), http('auth', 401), http('permanent', 404, { code: 2401 }), new ComposioError('retryable', 't', { operation: 'x', failure: 'timeout' })]) {
      assert.equal(mayConcernAccount(e), false, e.message);
    }
  });

  it('the status a refusal implies on its own, for when Composio cannot be asked', () => {
    assert.equal(impliedAccountStatus(http('permanent', 410, { code: 1820 })), 'expired');
    assert.equal(impliedAccountStatus(http('permanent', 422, { slug: 'ActionExecute_ConnectedAccountNotActive' })), 'inactive');
    assert.equal(impliedAccountStatus(http('permanent', 404, { code: 1803 })), 'revoked');
    assert.equal(impliedAccountStatus(http('permanent', 422)), undefined);
  });
});
