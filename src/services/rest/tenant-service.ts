import { createTenantInput, updateTenantInput, type CreateTenantInput, type Tenant, type TenantService, type UpdateTenantInput } from '../tenant-service.ts';
import { limit, notFound, parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrap, unwrapAll } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COLUMNS = 'id,name,plan,timezone,concurrency_limit,created_at,updated_at';
const DATES = ['created_at', 'updated_at'] as const;

export class RestTenantService implements TenantService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #tenants() {
    return this.#access.client.from('tenants');
  }

  async create(input: CreateTenantInput): Promise<Tenant> {
    const { id, ...t } = parseInput(createTenantInput, input);
    const row = await unwrapAll(this.#tenants.insert({ ...(id === undefined ? {} : { id }), ...t }).select(COLUMNS).single());
    return withDates(row, DATES);
  }

  async get(id: string): Promise<Tenant> {
    const tenantId = parseInput(uuid, id, 'id');
    const row = await unwrap(this.#tenants.select(COLUMNS).eq('id', tenantId).maybeSingle());
    if (!row) throw notFound('tenant', 'id', tenantId);
    return withDates(row, DATES);
  }

  async list(options: { limit?: number } = {}): Promise<Tenant[]> {
    const n = parseInput(limit, options.limit, 'limit');
    return allWithDates(await unwrapAll(this.#tenants.select(COLUMNS).order('created_at').order('id').limit(n)), DATES);
  }

  async update(id: string, patch: UpdateTenantInput): Promise<Tenant> {
    const tenantId = parseInput(uuid, id, 'id');
    const p = parseInput(updateTenantInput, patch);
    if (Object.keys(p).length === 0) return this.get(tenantId);
    const row = await unwrap(this.#tenants.update(p).eq('id', tenantId).select(COLUMNS).maybeSingle());
    if (!row) throw notFound('tenant', 'id', tenantId);
    return withDates(row, DATES);
  }
}
