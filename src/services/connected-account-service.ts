import { z } from 'zod';
import type { Access } from './access.ts';
import { KIB, jsonObject, limit, notFound, parseInput, timestamp, uuid } from './validation.ts';

// Composio's account states, lower-cased, INITIALIZING/INITIATED folded into pending (001_init).
export const connectedAccountStatus = z.enum(['pending', 'active', 'failed', 'expired', 'inactive', 'revoked']);
export type ConnectedAccountStatus = z.infer<typeof connectedAccountStatus>;

export interface ConnectedAccount {
  id: string;
  tenant_id: string;
  provider: string;
  status: ConnectedAccountStatus;
  scopes: string[];
  linked_at: Date | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

const provider = z.string().trim().min(1).max(100);

const fields = {
  status: connectedAccountStatus,
  scopes: z.array(z.string().trim().min(1).max(200)).max(200),
  linked_at: timestamp.nullable(),
  metadata: jsonObject(64 * KIB),
};

export const createConnectedAccountInput = z.strictObject({
  tenant_id: uuid,
  provider,
  status: fields.status.default('pending'),
  scopes: fields.scopes.default([]),
  linked_at: fields.linked_at.default(null),
  metadata: fields.metadata.default({}),
});
export type CreateConnectedAccountInput = z.input<typeof createConnectedAccountInput>;

export const updateConnectedAccountInput = z.strictObject(fields).partial();
export type UpdateConnectedAccountInput = z.input<typeof updateConnectedAccountInput>;

export const listConnectedAccountsInput = z.strictObject({
  tenant_id: uuid.optional(),
  provider: provider.optional(),
  status: connectedAccountStatus.optional(),
  limit,
});
export type ListConnectedAccountsInput = z.input<typeof listConnectedAccountsInput>;

// Recording what Composio said (account-lifecycle.ts, the Composio executor): each goes
// through a SQL function of 008_composio_accounts that writes the audit row with it.

/** Who an audit row names; honoured for the service role only (a tenant is its token's subject). */
export const auditActorInput = z.strictObject({
  type: z.string().trim().min(1).max(64),
  id: z.string().trim().min(1).max(200),
});
export type AuditActor = z.input<typeof auditActorInput>;

export const linkConnectedAccountInput = z.strictObject({
  tenant_id: uuid,
  provider,
  /** Composio's id of the account (`ca_…`), kept in metadata.composio_id. */
  composio_id: z.string().trim().min(1).max(200),
  scopes: fields.scopes.default([]),
  metadata: fields.metadata.default({}),
  actor: auditActorInput.optional(),
});
export type LinkConnectedAccountInput = z.input<typeof linkConnectedAccountInput>;

export const setConnectedAccountStatusInput = z.strictObject({
  status: connectedAccountStatus,
  /** What changed it, for the audit row: `refresh`, `revoke`, `execution_refused`, … */
  transition: z.string().trim().min(1).max(64),
  reason: z.string().trim().min(1).max(2000).nullable().default(null),
  /** Merged into the audit payload (it cannot override account_id, from, to, …). */
  details: jsonObject(16 * KIB).default({}),
  actor: auditActorInput.optional(),
});
export type SetConnectedAccountStatusInput = z.input<typeof setConnectedAccountStatusInput>;

export interface AccountStatusChange {
  account: ConnectedAccount;
  previous_status: ConnectedAccountStatus;
  /** False when the account already had the status: nothing was written or audited. */
  changed: boolean;
}

export interface ConnectedAccountService {
  /** Creates an account; a tenant only for itself (RLS), the service role for any tenant. */
  create(input: CreateConnectedAccountInput): Promise<ConnectedAccount>;
  /** The account, or `not_found` (also when RLS hides it). */
  get(id: string): Promise<ConnectedAccount>;
  /** Oldest first; a tenant sees only its own. */
  list(filter?: ListConnectedAccountsInput): Promise<ConnectedAccount[]>;
  /** Absent keys keep their value (null clears linked_at); `not_found` when missing or hidden. */
  update(id: string, patch: UpdateConnectedAccountInput): Promise<ConnectedAccount>;
  /** A link initiated at Composio: a `pending` row, audited (`link`). A tenant only for itself. */
  link(input: LinkConnectedAccountInput): Promise<ConnectedAccount>;
  /** Sets the status and audits the change, atomically; `not_found` when missing or hidden. */
  setStatus(id: string, input: SetConnectedAccountStatusInput): Promise<AccountStatusChange>;
}

const COLUMNS = 'id, tenant_id, provider, status, scopes, linked_at, metadata, created_at, updated_at';

export class SqlConnectedAccountService implements ConnectedAccountService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async create(input: CreateConnectedAccountInput): Promise<ConnectedAccount> {
    const a = parseInput(createConnectedAccountInput, input);
    return this.#access.run(async (tx) => {
      // No `id` column here: tenants have no insert grant on it.
      const res = await tx.query<ConnectedAccount>(
        `insert into connected_accounts (tenant_id, provider, status, scopes, linked_at, metadata)
         values ($1, $2, $3, $4::text[], $5, $6::jsonb) returning ${COLUMNS}`,
        [a.tenant_id, a.provider, a.status, a.scopes, a.linked_at, JSON.stringify(a.metadata)],
      );
      return res.rows[0]!;
    });
  }

  async get(id: string): Promise<ConnectedAccount> {
    const accountId = parseInput(uuid, id, 'id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<ConnectedAccount>(`select ${COLUMNS} from connected_accounts where id = $1`, [accountId])).rows[0],
    );
    if (!row) throw notFound('connected account', 'id', accountId);
    return row;
  }

  async list(filter: ListConnectedAccountsInput = {}): Promise<ConnectedAccount[]> {
    const f = parseInput(listConnectedAccountsInput, filter);
    return this.#access.run(async (tx) =>
      (
        await tx.query<ConnectedAccount>(
          `select ${COLUMNS} from connected_accounts
            where ($1::uuid is null or tenant_id = $1) and ($2::text is null or provider = $2)
              and ($3::text is null or status = $3)
            order by created_at, id limit $4`,
          [f.tenant_id ?? null, f.provider ?? null, f.status ?? null, f.limit],
        )
      ).rows,
    );
  }

  async update(id: string, patch: UpdateConnectedAccountInput): Promise<ConnectedAccount> {
    const accountId = parseInput(uuid, id, 'id');
    const p = parseInput(updateConnectedAccountInput, patch);
    // jsonb_populate_record(row, patch) takes every key the patch lacks from the row
    // itself: absent = unchanged, null = cleared. Dates travel as ISO strings.
    const row = await this.#access.run(async (tx) =>
      (
        await tx.query<ConnectedAccount>(
          `update connected_accounts c set (status, scopes, linked_at, metadata) =
             (select p.status, p.scopes, p.linked_at, p.metadata from jsonb_populate_record(c, $2::jsonb) as p)
           where c.id = $1 returning ${COLUMNS}`,
          [accountId, JSON.stringify(p)],
        )
      ).rows[0],
    );
    if (!row) throw notFound('connected account', 'id', accountId);
    return row;
  }

  async link(input: LinkConnectedAccountInput): Promise<ConnectedAccount> {
    const a = parseInput(linkConnectedAccountInput, input);
    return this.#access.run(async (tx) =>
      (
        await tx.query<ConnectedAccount>(
          `select ${COLUMNS} from public.link_connected_account($1, $2, $3, $4::text[], $5::jsonb, $6, $7)`,
          [a.tenant_id, a.provider, a.composio_id, a.scopes, JSON.stringify(a.metadata), a.actor?.type ?? null, a.actor?.id ?? null],
        )
      ).rows[0]!,
    );
  }

  async setStatus(id: string, input: SetConnectedAccountStatusInput): Promise<AccountStatusChange> {
    const accountId = parseInput(uuid, id, 'id');
    const s = parseInput(setConnectedAccountStatusInput, input);
    const row = await this.#access.run(async (tx) =>
      (
        await tx.query<ConnectedAccount & { previous_status: ConnectedAccountStatus }>(
          `select ${COLUMNS}, previous_status from public.set_connected_account_status($1, $2, $3, $4, $5::jsonb, $6, $7)`,
          [accountId, s.status, s.transition, s.reason, JSON.stringify(s.details), s.actor?.type ?? null, s.actor?.id ?? null],
        )
      ).rows[0]!,
    );
    const { previous_status, ...account } = row;
    return { account, previous_status, changed: previous_status !== account.status };
  }
}
