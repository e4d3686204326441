// The fake's control surface over HTTP, under /_fake (no API key: it listens on
// loopback), so a process other than the one that started the fake can script it:
//
//   POST   /_fake/faults                 {tool?, route?, skip?, times?, fault}  → 201 {id}
//   GET    /_fake/faults                 the active faults
//   DELETE /_fake/faults[/<id>]          clear all, or one
//   POST   /_fake/catalog                {version?: 1 | 2, synthetic_tools?: n | {toolkit: n}}  (generated tools)
//   POST   /_fake/accounts               {toolkit, user_id, status?, id?}        → 201 {id}
//   POST   /_fake/accounts/<id>/status   {status, reason?}  (EXPIRED, REVOKED, FAILED, …)
//   POST   /_fake/settings               {expired_account_status: 410 | 422}
//   GET    /_fake/requests, /_fake/executions
//   POST   /_fake/reset
//   GET    /_fake/connect/<token>        a person "authorising": the account turns ACTIVE
import { ACCOUNT_STATUSES, type AccountStatus } from './accounts.ts';
import type { CatalogVersion } from './catalog.ts';
import type { FaultRule } from './faults.ts';
import type { FakeState } from './state.ts';
import type { Reply } from './wire.ts';

/** What both inject() and the admin endpoint drive. */
export interface FakeControl {
  inject(rule: FaultRule): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  reset(): void;
  setCatalogVersion(version: CatalogVersion): void;
  /** Adds generated tools (catalog.ts, syntheticTools): `count` per toolkit, or a count per toolkit slug; 0 removes them. */
  setSyntheticTools(count: number | Readonly<Record<string, number>>): void;
  setAccountStatus(id: string, status: AccountStatus, reason?: string | null): void;
  addConnectedAccount(input: { toolkit: string; userId: string; status?: AccountStatus; id?: string; authConfigId?: string }): string;
  setExpiredAccountStatus(status: 410 | 422): void;
  /** The person completed authorisation: ACTIVE; the callback URL to send them to, if any. */
  completeConnection(token: string): { accountId: string; callbackUrl: string | null } | undefined;
}

const ok = (body: unknown = { ok: true }, status = 200): Reply => ({ status, body });
const refuse = (message: string, status = 400): Reply => ({ status, body: { error: { message, status } } });

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
}

/** The answer to an admin request, or undefined when the path is not an admin route. */
export function handleAdmin(method: string, path: string, body: unknown, state: FakeState, control: FakeControl): Reply | undefined {
  const parts = path.split('/').filter(Boolean).slice(1); // drop '_fake'
  const input = asObject(body);
  try {
    switch (`${method} ${parts[0] ?? ''}`) {
      case 'POST faults':
        return ok({ id: control.inject(input as unknown as FaultRule) }, 201);
      case 'GET faults':
        return ok(state.faults.list());
      case 'DELETE faults':
        if (parts[1] !== undefined) return control.removeFault(parts[1]) ? ok() : refuse(`no fault ${parts[1]}`, 404);
        control.clearFaults();
        return ok();
      case 'POST catalog': {
        const version = input['version'];
        const synthetic = input['synthetic_tools'];
        if (version === undefined && synthetic === undefined) return refuse('give version and/or synthetic_tools');
        if (version !== undefined && version !== 1 && version !== 2) return refuse('version must be 1 or 2');
        if (synthetic !== undefined && typeof synthetic !== 'number' && (typeof synthetic !== 'object' || synthetic === null)) return refuse('synthetic_tools must be a number or an object of numbers');
        if (version !== undefined) control.setCatalogVersion(version);
        if (synthetic !== undefined) control.setSyntheticTools(synthetic as number | Record<string, number>);
        return ok();
      }
      case 'POST accounts':
        if (parts[1] !== undefined && parts[2] === 'status') {
          const status = input['status'];
          if (!ACCOUNT_STATUSES.includes(status as AccountStatus)) return refuse(`status must be one of ${ACCOUNT_STATUSES.join(', ')}`);
          const reason = typeof input['reason'] === 'string' ? input['reason'] : null;
          control.setAccountStatus(parts[1], status as AccountStatus, reason);
          return ok();
        }
        return ok({
          id: control.addConnectedAccount({
            toolkit: String(input['toolkit']), userId: String(input['user_id']),
            ...(typeof input['status'] === 'string' ? { status: input['status'] as AccountStatus } : {}),
            ...(typeof input['id'] === 'string' ? { id: input['id'] } : {}),
          }),
        }, 201);
      case 'POST settings': {
        const status = input['expired_account_status'];
        if (status !== 410 && status !== 422) return refuse('expired_account_status must be 410 or 422');
        control.setExpiredAccountStatus(status);
        return ok();
      }
      case 'GET requests':
        return ok(state.requests);
      case 'GET executions':
        return ok(state.executions);
      case 'POST reset':
        control.reset();
        return ok();
      case 'GET connect':
        return connectPage(control, parts[1] ?? '');
      default:
        return undefined;
    }
  } catch (error) {
    return refuse(error instanceof Error ? error.message : String(error));
  }
}

function connectPage(control: FakeControl, token: string): Reply {
  const done = control.completeConnection(token);
  if (!done) return { status: 404, body: '<!doctype html><title>Link expired</title><p>This connect link is unknown or expired.</p>', headers: { 'content-type': 'text/html; charset=utf-8' } };
  if (done.callbackUrl !== null) {
    const target = new URL(done.callbackUrl);
    target.searchParams.set('status', 'success');
    target.searchParams.set('connected_account_id', done.accountId);
    return { status: 302, body: '', headers: { location: target.href } };
  }
  return { status: 200, body: `<!doctype html><title>Connected</title><p>Connected ${done.accountId}. You can close this page.</p>`, headers: { 'content-type': 'text/html; charset=utf-8' } };
}
