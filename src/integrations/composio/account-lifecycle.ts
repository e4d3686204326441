// The life of a connected account, kept in step between Composio and Steward
// (docs/implementation/composio-tooling.md, "Connected-account lifecycle"):
//
//   initiate ──► pending ──refresh──► active | failed | expired | inactive | revoked
//                   ▲                    │
//                   └──── reauthorize ◄──┘ (expired, failed …)       revoke ──► revoked
//
// Composio is asked first, then Steward's row and its audit row are written together by
// a SQL function (008_composio_accounts), so the audit trail never records a change that
// did not happen at Composio. Steward's rows are read through the caller's Access: with a
// tenant's access, RLS hides every other tenant's accounts, and the service refuses
// (not_found) before Composio is called at all.
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { Access } from '../../services/access.ts';
import {
  SqlConnectedAccountService, type AccountStatusChange, type AuditActor, type ConnectedAccount, type ConnectedAccountStatus,
  type ListConnectedAccountsInput,
} from '../../services/connected-account-service.ts';
import { parseInput, uuid } from '../../services/validation.ts';
import { stewardAccountStatus } from './account-status.ts';
import type { ComposioClient } from './client.ts';
import { ComposioError } from './errors.ts';
import type { CallOptions } from './types.ts';

export interface AccountLifecycleOptions {
  /** Whose rights Steward's rows are read and written with (service role, or a tenant's claims). */
  access: Access;
  client: ComposioClient;
  /**
   * Called after an account became active (a refresh found it ACTIVE), once its new status
   * is committed: the place for the seed's "Immediate Triggers" (enqueue a catalog sync of
   * the account's toolkit). A hook that throws makes the refresh reject, and a later
   * refresh will not call it again (the account is already active): make it durable,
   * e.g. by enqueueing an outbox envelope.
   */
  onActivated?: (account: ConnectedAccount) => Promise<void> | void;
  /** Named on audit rows when acting as the service role; default service / account-lifecycle. */
  actor?: AuditActor;
}

const url = z.url({ protocol: /^https?$/ }).max(2000);

export const initiateLinkInput = z.strictObject({
  tenant_id: uuid,
  /** Composio's auth config (`ac_…`) for the toolkit; its toolkit becomes the account's provider. */
  auth_config_id: z.string().trim().min(1).max(200),
  /** Where Composio sends the person after they authorise. */
  callback_url: url.optional(),
  /** The scopes the link grants (those the auth config requests), kept in connected_accounts.scopes. */
  scopes: z.array(z.string().trim().min(1).max(200)).max(200).default([]),
});
export type InitiateLinkInput = z.input<typeof initiateLinkInput>;

export interface InitiatedLink {
  account: ConnectedAccount;
  /** The page the person opens to authorise; valid until `expires_at`. */
  redirect_url: string;
  expires_at: string;
}

export interface Reauthorization {
  account: ConnectedAccount;
  /** The page the person opens to authorise again; null when Composio needed no one. */
  redirect_url: string | null;
}

export class ConnectedAccountLifecycle {
  readonly #access: Access;
  readonly #client: ComposioClient;
  readonly #accounts: SqlConnectedAccountService;
  readonly #onActivated: AccountLifecycleOptions['onActivated'];
  readonly #actor: AuditActor;

  constructor(options: AccountLifecycleOptions) {
    this.#access = options.access;
    this.#client = options.client;
    this.#accounts = new SqlConnectedAccountService(options.access);
    this.#onActivated = options.onActivated;
    this.#actor = options.actor ?? { type: 'service', id: 'account-lifecycle' };
  }

  /**
   * Starts linking an account through Composio's hosted Connect Link: the account's
   * row is `pending` (audited `link`) until a refresh finds it ACTIVE. The Composio user
   * is the tenant itself, the binding the executor relies on (composio-tooling.md).
   */
  async initiate(input: InitiateLinkInput, call?: CallOptions): Promise<InitiatedLink> {
    const i = parseInput(initiateLinkInput, input);
    // Before any call: a tenant's access may link only for a tenant it can see (itself).
    const visible = await this.#access.run(async (tx) => (await tx.query('select 1 from tenants where id = $1', [i.tenant_id])).rows.length > 0);
    if (!visible) throw new StewardError('not_found', `tenant ${i.tenant_id} not found`, { field: 'tenant_id' });

    const config = await this.#client.getAuthConfig(i.auth_config_id, call);
    const link = await this.#client.createConnectLink({
      authConfigId: config.id, userId: i.tenant_id, ...(i.callback_url === undefined ? {} : { callbackUrl: i.callback_url }),
    }, call);
    // If this write fails, Composio keeps an INITIATED account nobody will complete; it
    // expires with its link, and nothing can act through it.
    const account = await this.#accounts.link({
      tenant_id: i.tenant_id, provider: config.toolkit.slug, composio_id: link.connected_account_id, scopes: i.scopes,
      metadata: { auth_config_id: config.id, composio_user_id: i.tenant_id }, actor: this.#actor,
    });
    return { account, redirect_url: link.redirect_url, expires_at: link.expires_at };
  }

  /**
   * Reads the account's state at Composio and records it (audited `refresh` when it
   * changed). An account Composio no longer has is `revoked`. Calls onActivated when the
   * account became active.
   */
  async refresh(accountId: string, call?: CallOptions): Promise<AccountStatusChange> {
    const { account, composioId } = await this.#own(accountId);
    let status: ConnectedAccountStatus;
    let reason: string | null;
    try {
      const remote = await this.#client.getConnectedAccount(composioId, call);
      status = stewardAccountStatus(remote);
      reason = remote.status_reason;
    } catch (error) {
      if (!(error instanceof ComposioError && error.status === 404)) throw error;
      status = 'revoked';
      reason = 'the account no longer exists at Composio';
    }
    const change = await this.#accounts.setStatus(account.id, {
      status, transition: 'refresh', reason, details: { composio_status: status }, actor: this.#actor,
    });
    if (change.changed && change.account.status === 'active') await this.#onActivated?.(change.account);
    return change;
  }

  /**
   * Refreshes every account the filter selects (default: the pending ones, i.e. links
   * waiting for their person), one after another; the first failure stops the run.
   */
  async refreshMany(filter: ListConnectedAccountsInput = { status: 'pending' }, call?: CallOptions): Promise<AccountStatusChange[]> {
    const changes: AccountStatusChange[] = [];
    for (const account of await this.list(filter)) {
      if (typeof account.metadata['composio_id'] !== 'string') continue; // not a Composio account
      changes.push(await this.refresh(account.id, call));
    }
    return changes;
  }

  /**
   * Asks Composio to authorise an expired or failed account again: it turns INITIATED,
   * our row `pending` (audited `reauthorize`), and the person opens `redirect_url`; a
   * refresh then finds it ACTIVE.
   */
  async reauthorize(accountId: string, options: { redirect_url?: string } = {}, call?: CallOptions): Promise<Reauthorization> {
    const redirect = parseInput(url.optional(), options.redirect_url, 'redirect_url');
    const { account, composioId } = await this.#own(accountId);
    const answer = await this.#client.refreshConnectedAccount(composioId, redirect === undefined ? {} : { redirectUrl: redirect }, call);
    const change = await this.#accounts.setStatus(account.id, {
      status: stewardAccountStatus({ status: answer.status, is_disabled: false }), transition: 'reauthorize',
      reason: 'authorisation requested again', details: { composio_status: answer.status }, actor: this.#actor,
    });
    return { account: change.account, redirect_url: answer.redirect_url };
  }

  /**
   * Deletes the account at Composio (its tokens with it) and marks our row `revoked`
   * (audited `revoke`). Idempotent: an account Composio no longer has is revoked all the same.
   */
  async revoke(accountId: string, options: { reason?: string } = {}, call?: CallOptions): Promise<AccountStatusChange> {
    const reason = parseInput(z.string().trim().min(1).max(2000).optional(), options.reason, 'reason');
    const { account, composioId } = await this.#own(accountId);
    try {
      await this.#client.deleteConnectedAccount(composioId, call);
    } catch (error) {
      if (!(error instanceof ComposioError && error.status === 404)) throw error;
    }
    return this.#accounts.setStatus(account.id, {
      status: 'revoked', transition: 'revoke', reason: reason ?? 'revoked through Steward', actor: this.#actor,
    });
  }

  /** Steward's rows (a tenant sees only its own); Composio is not asked. */
  list(filter: ListConnectedAccountsInput = {}): Promise<ConnectedAccount[]> {
    return this.#accounts.list(filter);
  }

  /** The caller's account and its Composio id; not_found when RLS hides it, before any call. */
  async #own(accountId: string): Promise<{ account: ConnectedAccount; composioId: string }> {
    const account = await this.#accounts.get(accountId);
    const composioId = account.metadata['composio_id'];
    if (typeof composioId !== 'string' || composioId === '') {
      throw new StewardError('invalid_input', `connected account ${account.id} has no metadata.composio_id: it was not linked through Composio`, { field: 'metadata.composio_id' });
    }
    return { account, composioId };
  }
}
