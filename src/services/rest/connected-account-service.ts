import {
  createConnectedAccountInput, linkConnectedAccountInput, listConnectedAccountsInput, setConnectedAccountStatusInput, updateConnectedAccountInput,
  type AccountStatusChange, type ConnectedAccount, type ConnectedAccountService, type ConnectedAccountStatus, type CreateConnectedAccountInput,
  type LinkConnectedAccountInput, type ListConnectedAccountsInput, type SetConnectedAccountStatusInput, type UpdateConnectedAccountInput,
} from '../connected-account-service.ts';
import { notFound, parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrap, unwrapAll } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COLUMNS = 'id,tenant_id,provider,status,scopes,linked_at,metadata,created_at,updated_at';
const DATES = ['linked_at', 'created_at', 'updated_at'] as const;

export class RestConnectedAccountService implements ConnectedAccountService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #accounts() {
    return this.#access.client.from('connected_accounts');
  }

  async create(input: CreateConnectedAccountInput): Promise<ConnectedAccount> {
    const a = parseInput(createConnectedAccountInput, input);
    return withDates(await unwrapAll(this.#accounts.insert(a).select(COLUMNS).single()), DATES);
  }

  async get(id: string): Promise<ConnectedAccount> {
    const accountId = parseInput(uuid, id, 'id');
    const row = await unwrap(this.#accounts.select(COLUMNS).eq('id', accountId).maybeSingle());
    if (!row) throw notFound('connected account', 'id', accountId);
    return withDates(row, DATES);
  }

  async list(filter: ListConnectedAccountsInput = {}): Promise<ConnectedAccount[]> {
    const f = parseInput(listConnectedAccountsInput, filter);
    let query = this.#accounts.select(COLUMNS);
    if (f.tenant_id !== undefined) query = query.eq('tenant_id', f.tenant_id);
    if (f.provider !== undefined) query = query.eq('provider', f.provider);
    if (f.status !== undefined) query = query.eq('status', f.status);
    return allWithDates(await unwrapAll(query.order('created_at').order('id').limit(f.limit)), DATES);
  }

  async update(id: string, patch: UpdateConnectedAccountInput): Promise<ConnectedAccount> {
    const accountId = parseInput(uuid, id, 'id');
    const p = parseInput(updateConnectedAccountInput, patch);
    if (Object.keys(p).length === 0) return this.get(accountId);
    const row = await unwrap(this.#accounts.update(p).eq('id', accountId).select(COLUMNS).maybeSingle());
    if (!row) throw notFound('connected account', 'id', accountId);
    return withDates(row, DATES);
  }

  async link(input: LinkConnectedAccountInput): Promise<ConnectedAccount> {
    const a = parseInput(linkConnectedAccountInput, input);
    const row = await unwrapAll(
      this.#access.client.rpc('link_connected_account', {
        p_tenant: a.tenant_id, p_provider: a.provider, p_composio_id: a.composio_id, p_scopes: a.scopes, p_metadata: a.metadata,
        p_actor_type: a.actor?.type ?? null, p_actor_id: a.actor?.id ?? null,
      }).single(),
    );
    return withDates(row, DATES);
  }

  async setStatus(id: string, input: SetConnectedAccountStatusInput): Promise<AccountStatusChange> {
    const accountId = parseInput(uuid, id, 'id');
    const s = parseInput(setConnectedAccountStatusInput, input);
    const row = withDates<ConnectedAccount & { previous_status: ConnectedAccountStatus }>(
      await unwrapAll(
        this.#access.client.rpc('set_connected_account_status', {
          p_account: accountId, p_status: s.status, p_transition: s.transition, p_reason: s.reason, p_details: s.details,
          p_actor_type: s.actor?.type ?? null, p_actor_id: s.actor?.id ?? null,
        }).single(),
      ),
      DATES,
    );
    const { previous_status, ...account } = row;
    return { account, previous_status, changed: previous_status !== account.status };
  }
}
