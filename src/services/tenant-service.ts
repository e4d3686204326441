import { z } from 'zod';
import type { Access } from './access.ts';
import { limit, notFound, parseInput, uuid } from './validation.ts';

export interface Tenant {
  id: string;
  name: string;
  plan: string;
  timezone: string;
  concurrency_limit: number;
  created_at: Date;
  updated_at: Date;
}

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Berlin');

const fields = {
  name: z.string().trim().min(1).max(200),
  plan: z.string().trim().min(1).max(64),
  timezone,
  concurrency_limit: z.number().int().min(1).max(100),
};

export const createTenantInput = z.strictObject({
  id: uuid.optional(),
  name: fields.name,
  plan: fields.plan.default('free'),
  timezone: fields.timezone.default('UTC'),
  concurrency_limit: fields.concurrency_limit.default(1),
});
export type CreateTenantInput = z.input<typeof createTenantInput>;

// Built from the bare fields: zod applies defaults inside .partial(), which would reset
// every field a patch leaves out.
export const updateTenantInput = z.strictObject(fields).partial();
export type UpdateTenantInput = z.input<typeof updateTenantInput>;

export interface TenantService {
  /** Creates a tenant (service role only). */
  create(input: CreateTenantInput): Promise<Tenant>;
  /** The tenant, or `not_found` (also when RLS hides it). */
  get(id: string): Promise<Tenant>;
  list(options?: { limit?: number }): Promise<Tenant[]>;
  update(id: string, patch: UpdateTenantInput): Promise<Tenant>;
}

const COLUMNS = 'id, name, plan, timezone, concurrency_limit, created_at, updated_at';

export class SqlTenantService implements TenantService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async create(input: CreateTenantInput): Promise<Tenant> {
    const t = parseInput(createTenantInput, input);
    return this.#access.run(async (tx) => {
      const res = await tx.query<Tenant>(
        `insert into tenants (id, name, plan, timezone, concurrency_limit)
         values (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5) returning ${COLUMNS}`,
        [t.id ?? null, t.name, t.plan, t.timezone, t.concurrency_limit],
      );
      return res.rows[0]!;
    });
  }

  async get(id: string): Promise<Tenant> {
    const tenantId = parseInput(uuid, id, 'id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<Tenant>(`select ${COLUMNS} from tenants where id = $1`, [tenantId])).rows[0],
    );
    if (!row) throw notFound('tenant', 'id', tenantId);
    return row;
  }

  async list(options: { limit?: number } = {}): Promise<Tenant[]> {
    const n = parseInput(limit, options.limit, 'limit');
    return this.#access.run(async (tx) =>
      (await tx.query<Tenant>(`select ${COLUMNS} from tenants order by created_at, id limit $1`, [n])).rows,
    );
  }

  async update(id: string, patch: UpdateTenantInput): Promise<Tenant> {
    const tenantId = parseInput(uuid, id, 'id');
    const p = parseInput(updateTenantInput, patch);
    const row = await this.#access.run(async (tx) =>
      (
        await tx.query<Tenant>(
          `update tenants set
             name = coalesce($2, name), plan = coalesce($3, plan),
             timezone = coalesce($4, timezone), concurrency_limit = coalesce($5, concurrency_limit)
           where id = $1 returning ${COLUMNS}`,
          [tenantId, p.name ?? null, p.plan ?? null, p.timezone ?? null, p.concurrency_limit ?? null],
        )
      ).rows[0],
    );
    if (!row) throw notFound('tenant', 'id', tenantId);
    return row;
  }
}
