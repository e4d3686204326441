import { appendAuditInput, auditQueryInput, type AppendAuditInput, type AuditEntry, type AuditLogger, type AuditQueryInput, type ChainBreak } from '../audit-logger.ts';
import { parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrapAll } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COLUMNS = 'id,tenant_id,actor_type,actor_id,category,payload,created_at,chain_seq,prev_hash,hash';
const DATES = ['created_at'] as const;

export class RestAuditLogger implements AuditLogger {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #log() {
    return this.#access.client.from('audit_log');
  }

  async append(entry: AppendAuditInput): Promise<AuditEntry> {
    const e = parseInput(appendAuditInput, entry);
    return withDates(await unwrapAll(this.#log.insert(e).select(COLUMNS).single()), DATES);
  }

  async query(filter: AuditQueryInput = {}): Promise<AuditEntry[]> {
    const f = parseInput(auditQueryInput, filter);
    let query = this.#log.select(COLUMNS);
    if (f.tenant_id === null) query = query.is('tenant_id', null);
    else if (f.tenant_id !== undefined) query = query.eq('tenant_id', f.tenant_id);
    if (f.category !== undefined) query = query.eq('category', f.category);
    if (f.since !== undefined) query = query.gte('created_at', f.since.toISOString());
    if (f.until !== undefined) query = query.lt('created_at', f.until.toISOString());
    return allWithDates(await unwrapAll(query.order('created_at', { ascending: false }).order('id', { ascending: false }).limit(f.limit)), DATES);
  }

  async verify(tenantId?: string): Promise<ChainBreak[]> {
    const tenant = parseInput(uuid.optional(), tenantId, 'tenant_id');
    // public.audit_verify (011_rest_rpcs) wraps steward.audit_verify: service role only.
    return unwrapAll<ChainBreak[]>(this.#access.client.rpc('audit_verify', { p_tenant: tenant ?? null }));
  }
}
