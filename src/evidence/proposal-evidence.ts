import { z } from 'zod';
import type { Access } from '../services/access.ts';
import { notFound, parseInput, uuid } from '../services/validation.ts';
import type { Embedder } from './embedders/embedder.ts';
import { envelopeQueryText, evidenceForProposal as evidenceForProposalQuery } from './evidence-queries.ts';
import { SOURCE_TYPES, type EvidenceHit } from './evidence-types.ts';
import { toVectorLiteral } from './vector-literal.ts';

// Evidence retrieval for a proposal: what a guardrail's `require_evidence` check can point
// at. The envelope's own text (tool, arguments, trust context; as public.
// evidence_query_for_envelope renders it) is the query, hybrid over the envelope's tenant,
// the envelope's own evidence left out.

export const proposalEvidenceInput = z.strictObject({
  envelope_id: uuid,
  limit: z.number().int().min(1).max(100).default(5),
  source_types: z.array(z.enum(SOURCE_TYPES)).min(1).optional(),
});
export type ProposalEvidenceInput = z.input<typeof proposalEvidenceInput>;

export interface ProposalEvidence {
  envelope_id: string;
  model: string;
  query: string;
  evidence: EvidenceHit[];
}

export async function evidenceForProposal(access: Access, embedder: Embedder, input: ProposalEvidenceInput): Promise<ProposalEvidence> {
  const p = parseInput(proposalEvidenceInput, input);
  const query = await access.run((tx) => envelopeQueryText(tx, p.envelope_id));
  if (query === undefined) throw notFound('envelope', 'envelope_id', p.envelope_id);
  const [vector] = await embedder.embed([query]);
  const evidence = await access.run((tx) =>
    evidenceForProposalQuery(tx, p.envelope_id, toVectorLiteral(vector!), embedder.modelId, p.limit, p.source_types),
  );
  return { envelope_id: p.envelope_id, model: embedder.modelId, query, evidence };
}
