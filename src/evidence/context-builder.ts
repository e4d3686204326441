import { z } from 'zod';
import type { Access } from '../services/access.ts';
import { parseInput, uuid } from '../services/validation.ts';
import type { Embedder } from './embedders/embedder.ts';
import { evidenceContext } from './evidence-queries.ts';
import { SOURCE_TYPES } from './evidence-types.ts';
import { toVectorLiteral } from './vector-literal.ts';

// Context augmentation: relevant history for an agent's prompt. Hybrid search, duplicates
// dropped, snippets taken in rank order while they fit the token budget (public.
// evidence_context: tokens estimated as ⌈characters / 4⌉, a snippet that does not fit is
// skipped and smaller ones after it may still be taken).

export const buildContextInput = z.strictObject({
  tenant_id: uuid.optional(),
  query: z.string().trim().min(1).max(10_000),
  budget_tokens: z.number().int().min(1).max(1_000_000),
  source_types: z.array(z.enum(SOURCE_TYPES)).min(1).optional(),
  /** Hybrid results considered before deduplication and budgeting. */
  candidates: z.number().int().min(1).max(1000).default(50),
});
export type BuildContextInput = z.input<typeof buildContextInput>;

export interface ContextSnippet {
  rank: number;
  content: string;
  tokens: number;
  score: number;
  source: { type: string; id: string | null; chunk_index: number; evidence_id: string; created_at: Date };
  metadata: Record<string, unknown>;
}

export interface EvidenceContext {
  query: string;
  model: string;
  budget_tokens: number;
  used_tokens: number;
  snippets: ContextSnippet[];
}

export async function buildContext(access: Access, embedder: Embedder, input: BuildContextInput): Promise<EvidenceContext> {
  const c = parseInput(buildContextInput, input);
  const [vector] = await embedder.embed([c.query]);
  const rows = await access.run((tx) =>
    evidenceContext(tx, c.query, toVectorLiteral(vector!), embedder.modelId, c.budget_tokens, { tenantId: c.tenant_id, sourceTypes: c.source_types }, c.candidates),
  );
  const snippets = rows.map((r) => ({
    rank: r.rank,
    content: r.content,
    tokens: r.tokens,
    score: r.score,
    source: { type: r.source_type, id: r.source_id, chunk_index: r.chunk_index, evidence_id: r.id, created_at: r.created_at },
    metadata: r.metadata,
  }));
  return { query: c.query, model: embedder.modelId, budget_tokens: c.budget_tokens, used_tokens: snippets.reduce((n, s) => n + s.tokens, 0), snippets };
}
