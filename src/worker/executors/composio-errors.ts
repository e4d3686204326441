// A failed Composio call → the worker's ExecutionError, and whether the failure may be
// about the connected account rather than the call (docs/implementation/composio-tooling.md,
// "Error classification"). Pure: the executor confirms an account problem by asking
// Composio for the account before it changes anything.
import type { ComposioError } from '../../integrations/composio/index.ts';
import type { ConnectedAccountStatus } from '../../services/connected-account-service.ts';
import { ExecutionError } from '../executor.ts';

// Composio's execute codes (reference §4: 1803 is documented; 1820 comes from third-party
// code; 1821 is the fake's "not active", kept so both agree).
const ACCOUNT_NOT_FOUND = 1803;
const ACCOUNT_EXPIRED = 1820;
const ACCOUNT_NOT_ACTIVE = 1821;

/**
 * The ExecutionError for a ComposioError that is not (or not confirmed to be) about the
 * account: retryable and conflict keep their kind (and Retry-After); permanent stays
 * permanent; `auth` (Composio refused Steward's own API key) is permanent too: no
 * retry fixes a key, and every envelope would fail the same way until an operator
 * changes it and drains the DLQ. Messages come from the client, which never puts the
 * key in them.
 */
export function executionErrorOf(error: ComposioError): ExecutionError {
  const options = {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    cause: error,
  };
  switch (error.kind) {
    case 'retryable':
    case 'conflict':
    case 'permanent':
      return new ExecutionError(error.kind, error.message, options);
    case 'auth':
      return new ExecutionError('permanent', `${error.message}: Composio refused Steward's API key; fix COMPOSIO_API_KEY, then requeue the dead letters`, options);
  }
}

/**
 * Whether the failure may mean the connected account cannot act: 410 (Composio's
 * expired account; but also a deprecated tool), 422 (an invalid account state, per the
 * spec), 404 with code 1803 (the account is gone), or a code/slug naming the account.
 * False when it is surely not about the account (a timeout, a 5xx, a 409, our API key).
 */
export function mayConcernAccount(error: ComposioError): boolean {
  if (error.kind === 'auth' || error.kind === 'conflict' || error.kind === 'retryable' || error.failure !== 'http') return false;
  if (error.status === 410 || error.status === 422) return true;
  if (error.code === ACCOUNT_NOT_FOUND || error.code === ACCOUNT_EXPIRED || error.code === ACCOUNT_NOT_ACTIVE) return true;
  return /connected_?account/i.test(error.slug ?? '');
}

/**
 * The account status a refusal implies by itself, for when Composio cannot be asked
 * about the account: only codes and slugs that name the state count.
 */
export function impliedAccountStatus(error: ComposioError): ConnectedAccountStatus | undefined {
  const slug = error.slug ?? '';
  if (error.code === ACCOUNT_EXPIRED || /expired/i.test(slug)) return 'expired';
  if (/revoked/i.test(slug)) return 'revoked';
  if (error.code === ACCOUNT_NOT_ACTIVE || /not_?active|inactive/i.test(slug)) return 'inactive';
  if (error.code === ACCOUNT_NOT_FOUND) return 'revoked';
  return undefined;
}
