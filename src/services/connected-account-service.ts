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

export interface ConnectedAccountService {
  /** Creates an account; a tenant only for itself (RLS), the service role for any tenant. */
  create(input: CreateConnectedAccountInput): Promise<ConnectedAccount>;
  /** The account, or `not_found` (also when RLS hides it). */
  get(id: string): Promise<ConnectedAccount>;
  /** Oldest first; a tenant sees only its own. */
  list(filter?: ListConnectedAccountsInput): Promise<ConnectedAccount[]>;
  /** Absent keys keep their value (null clears linked_at); `not_found` when missing or hidden. */
  update(id: string, patch: UpdateConnectedAccountInput): Promise<ConnectedAccount>;
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
}
