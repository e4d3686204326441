import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { Access } from '../services/access.ts';
import { KIB, jsonObject, parseInput, uuid } from '../services/validation.ts';

// Evidence written by people and agents directly: an operator's note, a document. As the
// service role, for any tenant; with a tenant's token, only when the token carries every
// scope in the tenant's guardrails.evidence_insert_scopes (the restrictive policy
// evidence_insert_requires_scopes of 004_rls: a finance tenant's evidence needs
// finance:write). Rows are embedded later by the re-indexer, like every other.

export const addEvidenceInput = z.strictObject({
  tenant_id: uuid,
  source_type: z.enum(['note', 'document']).default('note'),
  source_id: z.string().trim().min(1).max(500).optional(),
  content: z.string().trim().min(1).max(100_000),
  metadata: jsonObject(64 * KIB).default({}),
});
export type AddEvidenceInput = z.input<typeof addEvidenceInput>;

export interface AddedEvidence {
  id: string;
  tenant_id: string;
  source_type: string;
  source_id: string | null;
  created_at: Date;
}

export async function addEvidence(access: Access, input: AddEvidenceInput): Promise<AddedEvidence> {
  const e = parseInput(addEvidenceInput, input);
  return access.run(async (tx) => {
    try {
      const res = await tx.query<AddedEvidence>(
        `insert into public.evidence_embeddings (tenant_id, source_type, source_id, content, metadata)
         values ($1, $2, $3, $4, $5::jsonb) returning id, tenant_id, source_type, source_id, created_at`,
        [e.tenant_id, e.source_type, e.source_id ?? null, e.content, JSON.stringify(e.metadata)],
      );
      return res.rows[0]!;
    } catch (error) {
      throw access.kind === 'tenant' ? refusal(error, e.tenant_id) : error;
    }
  });
}

// A tenant's insert refused by RLS: say which gate (its scopes, or another tenant's row).
function refusal(error: unknown, tenantId: string): unknown {
  const message = error instanceof Error ? error.message : '';
  if (/evidence_insert_requires_scopes/.test(message)) {
    return new StewardError('forbidden', `adding evidence for tenant ${tenantId} needs a token carrying the tenant's evidence_insert_scopes (guardrails)`, { field: 'scopes', cause: error });
  }
  if (/row-level security/.test(message)) {
    return new StewardError('forbidden', `a token of another tenant cannot add evidence for tenant ${tenantId}`, { field: 'tenant_id', cause: error });
  }
  return error;
}
