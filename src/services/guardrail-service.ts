import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { Access } from './access.ts';
import { KIB, jsonObject, notFound, parseInput, uuid } from './validation.ts';

/** `[start, end)` in whole hours of the tenant's time zone; wraps midnight when start > end. */
export interface QuietHours {
  start: number;
  end: number;
}

/** A tenant's guardrail settings: one row per tenant. */
export interface Guardrails {
  id: string;
  tenant_id: string;
  quiet_hours: QuietHours | null;
  trust_threshold: number | null;
  /** e.g. `{"allowed": ["GMAIL", "SLACK"]}`: the toolkits/scopes the tenant enables. */
  scopes: Record<string, unknown>;
  require_evidence: boolean;
  /** JWT scopes a tenant token needs to insert evidence itself; empty = service role only. */
  evidence_insert_scopes: string[];
  created_at: Date;
  updated_at: Date;
}

/** The JWT scope a tenant token needs to change its guardrails (004_rls). */
export const GUARDRAILS_WRITE_SCOPE = 'guardrails:write';

const hour = z.number().int().min(0).max(23);
const scope = z.string().trim().min(1).max(200);

// start = end passes the database check but means nothing (an empty window or the whole
// day?); null says "no quiet hours" unambiguously, so the boundary refuses it.
const quietHours = z
  .strictObject({ start: hour, end: hour })
  .refine((q) => q.start !== q.end, { message: 'start and end must differ (null means no quiet hours)', path: ['end'] });

const guardrailScopes = jsonObject(64 * KIB).pipe(z.looseObject({ allowed: z.array(scope).max(500).optional() }));

const fields = {
  quiet_hours: quietHours.nullable(),
  trust_threshold: z.number().min(0).max(1).nullable(),
  scopes: guardrailScopes,
  require_evidence: z.boolean(),
  evidence_insert_scopes: z.array(scope).max(50),
};

/** The whole configuration: omitted fields take the column defaults, on insert and on update. */
export const upsertGuardrailsInput = z.strictObject({
  tenant_id: uuid,
  quiet_hours: fields.quiet_hours.default(null),
  trust_threshold: fields.trust_threshold.default(null),
  scopes: fields.scopes.default({}),
  require_evidence: fields.require_evidence.default(true),
  evidence_insert_scopes: fields.evidence_insert_scopes.default([]),
});
export type UpsertGuardrailsInput = z.input<typeof upsertGuardrailsInput>;

export const updateGuardrailsInput = z.strictObject(fields).partial();
export type UpdateGuardrailsInput = z.input<typeof updateGuardrailsInput>;

export interface GuardrailService {
  /** The tenant's guardrails, or `not_found` (none yet, or hidden by RLS). */
  get(tenantId: string): Promise<Guardrails>;
  /** Creates or replaces the tenant's row (service role only: tenants get `forbidden`). */
  upsert(input: UpsertGuardrailsInput): Promise<Guardrails>;
  /**
   * Changes the given fields. A tenant token needs the `guardrails:write` scope: without
   * it `forbidden`; another tenant's or a missing row is `not_found`.
   */
  update(tenantId: string, patch: UpdateGuardrailsInput): Promise<Guardrails>;
}

const COLUMNS =
  'id, tenant_id, quiet_hours, trust_threshold, scopes, require_evidence, evidence_insert_scopes, created_at, updated_at';

export class SqlGuardrailService implements GuardrailService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async get(tenantId: string): Promise<Guardrails> {
    const id = parseInput(uuid, tenantId, 'tenant_id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<Guardrails>(`select ${COLUMNS} from guardrails where tenant_id = $1`, [id])).rows[0],
    );
    if (!row) throw notFound('guardrails of tenant', 'tenant_id', id);
    return row;
  }

  async upsert(input: UpsertGuardrailsInput): Promise<Guardrails> {
    const g = parseInput(upsertGuardrailsInput, input);
    return this.#access.run(async (tx) => {
      const res = await tx.query<Guardrails>(
        `insert into guardrails (tenant_id, quiet_hours, trust_threshold, scopes, require_evidence, evidence_insert_scopes)
         values ($1, $2::jsonb, $3, $4::jsonb, $5, $6::text[])
         on conflict (tenant_id) do update set
           quiet_hours = excluded.quiet_hours, trust_threshold = excluded.trust_threshold,
           scopes = excluded.scopes, require_evidence = excluded.require_evidence,
           evidence_insert_scopes = excluded.evidence_insert_scopes
         returning ${COLUMNS}`,
        [
          g.tenant_id,
          g.quiet_hours === null ? null : JSON.stringify(g.quiet_hours), // SQL NULL, not JSON null
          g.trust_threshold,
          JSON.stringify(g.scopes),
          g.require_evidence,
          g.evidence_insert_scopes,
        ],
      );
      return res.rows[0]!;
    });
  }

  async update(tenantId: string, patch: UpdateGuardrailsInput): Promise<Guardrails> {
    const id = parseInput(uuid, tenantId, 'tenant_id');
    const p = parseInput(updateGuardrailsInput, patch);
    return this.#access.run(async (tx) => {
      // jsonb_populate_record(row, patch) takes every key the patch lacks from the row
      // itself: absent = unchanged, null = cleared.
      const updated = await tx.query<Guardrails>(
        `update guardrails g set
           (quiet_hours, trust_threshold, scopes, require_evidence, evidence_insert_scopes) =
           (select p.quiet_hours, p.trust_threshold, p.scopes, p.require_evidence, p.evidence_insert_scopes
              from jsonb_populate_record(g, $2::jsonb) as p)
         where g.tenant_id = $1 returning ${COLUMNS}`,
        [id, JSON.stringify(p)],
      );
      if (updated.rows[0]) return updated.rows[0];
      // The restrictive policy filters the row out of the UPDATE rather than raising, so
      // 0 rows is ambiguous. A row this caller can still read was refused for want of the
      // scope (forbidden); one it cannot read is missing or another tenant's (not_found).
      const visible = await tx.query('select 1 from guardrails where tenant_id = $1', [id]);
      if (visible.rows.length > 0) {
        throw new StewardError('forbidden', `changing guardrails needs the ${GUARDRAILS_WRITE_SCOPE} scope`, {
          details: { required_scope: GUARDRAILS_WRITE_SCOPE },
        });
      }
      throw notFound('guardrails of tenant', 'tenant_id', id);
    });
  }
}
