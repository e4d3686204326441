import { StewardError } from '../../errors.ts';
import {
  GUARDRAILS_WRITE_SCOPE, updateGuardrailsInput, upsertGuardrailsInput,
  type GuardrailService, type Guardrails, type UpdateGuardrailsInput, type UpsertGuardrailsInput,
} from '../guardrail-service.ts';
import { notFound, parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrap, unwrapAll } from './errors.ts';
import { withDates } from './rows.ts';

const COLUMNS = 'id,tenant_id,quiet_hours,trust_threshold,scopes,require_evidence,evidence_insert_scopes,created_at,updated_at';
const DATES = ['created_at', 'updated_at'] as const;

/** numeric arrives as a JSON number from PostgREST; a string from some servers: normalise. */
function toGuardrails(row: unknown): Guardrails {
  const g = withDates<Guardrails>(row, DATES);
  return { ...g, trust_threshold: g.trust_threshold === null ? null : Number(g.trust_threshold) };
}

export class RestGuardrailService implements GuardrailService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #guardrails() {
    return this.#access.client.from('guardrails');
  }

  async get(tenantId: string): Promise<Guardrails> {
    const id = parseInput(uuid, tenantId, 'tenant_id');
    const row = await unwrap(this.#guardrails.select(COLUMNS).eq('tenant_id', id).maybeSingle());
    if (!row) throw notFound('guardrails of tenant', 'tenant_id', id);
    return toGuardrails(row);
  }

  async upsert(input: UpsertGuardrailsInput): Promise<Guardrails> {
    const g = parseInput(upsertGuardrailsInput, input);
    // Every column is sent, so a merge replaces the row whole, as the SQL upsert does.
    const row = await unwrapAll(this.#guardrails.upsert(g, { onConflict: 'tenant_id' }).select(COLUMNS).single());
    return toGuardrails(row);
  }

  async update(tenantId: string, patch: UpdateGuardrailsInput): Promise<Guardrails> {
    const id = parseInput(uuid, tenantId, 'tenant_id');
    const p = parseInput(updateGuardrailsInput, patch);
    if (Object.keys(p).length > 0) {
      const row = await unwrap(this.#guardrails.update(p).eq('tenant_id', id).select(COLUMNS).maybeSingle());
      if (row) return toGuardrails(row);
    }
    // The restrictive policy filters the row out of the PATCH rather than refusing it, so
    // no row is ambiguous: one this caller can still read was refused for want of the
    // scope (forbidden); one it cannot read is missing or another tenant's (not_found).
    // Two requests, not one transaction: a row appearing in between reads as forbidden.
    const visible = await unwrap(this.#guardrails.select(COLUMNS).eq('tenant_id', id).maybeSingle());
    if (visible && Object.keys(p).length === 0) return toGuardrails(visible);
    if (visible) {
      throw new StewardError('forbidden', `changing guardrails needs the ${GUARDRAILS_WRITE_SCOPE} scope`, {
        details: { required_scope: GUARDRAILS_WRITE_SCOPE },
      });
    }
    throw notFound('guardrails of tenant', 'tenant_id', id);
  }
}
