import { z } from 'zod';
import type { Access } from '../services/access.ts';
import { KIB, jsonObject, parseInput, timestamp, uuid } from '../services/validation.ts';
import type { Embedder } from './embedders/embedder.ts';
import { hybridSearch, keywordSearch, semanticSearch, type EvidenceFilters } from './evidence-queries.ts';
import { METRICS, SEARCH_MODES, SOURCE_TYPES, type EvidenceHit } from './evidence-types.ts';
import { toVectorLiteral } from './vector-literal.ts';

// Intelligent search over evidence (audit entries, tool outputs, proposals, notes):
// semantic, keyword (websearch syntax: "a phrase", -without, or) or hybrid (reciprocal
// rank fusion). A tenant's token searches its own rows; the service role any tenant's.
// Semantic search compares rows of the embedder's model only.

export const searchInput = z.strictObject({
  query: z.string().trim().min(1).max(10_000),
  mode: z.enum(SEARCH_MODES).default('hybrid'),
  metric: z.enum(METRICS).default('cosine'),
  limit: z.number().int().min(1).max(1000).default(10),
  tenant_id: uuid.optional(),
  source_types: z.array(z.enum(SOURCE_TYPES)).min(1).max(SOURCE_TYPES.length).optional(),
  created_after: timestamp.optional(),
  created_before: timestamp.optional(),
  metadata: jsonObject(8 * KIB).optional(),
  semantic_weight: z.number().min(0).max(100).default(1),
  keyword_weight: z.number().min(0).max(100).default(1),
  rrf_k: z.number().int().min(1).max(10_000).default(60),
});
export type SearchInput = z.input<typeof searchInput>;

export interface EvidenceSearch {
  search(input: SearchInput): Promise<EvidenceHit[]>;
}

export function filtersOf(s: { tenant_id?: string | undefined; source_types?: readonly string[] | undefined; created_after?: Date | undefined; created_before?: Date | undefined; metadata?: Record<string, unknown> | undefined }): EvidenceFilters {
  return { tenantId: s.tenant_id, sourceTypes: s.source_types, createdAfter: s.created_after, createdBefore: s.created_before, metadata: s.metadata };
}

export class SqlEvidenceSearch implements EvidenceSearch {
  readonly #access: Access;
  readonly #embedder: Embedder;

  constructor(access: Access, embedder: Embedder) {
    this.#access = access;
    this.#embedder = embedder;
  }

  async search(input: SearchInput): Promise<EvidenceHit[]> {
    const s = parseInput(searchInput, input);
    const filters = filtersOf(s);
    if (s.mode === 'keyword') return this.#access.run((tx) => keywordSearch(tx, s.query, s.limit, filters));
    // Embedded before the transaction opens: no transaction waits on a model.
    const [vector] = await this.#embedder.embed([s.query]);
    const literal = toVectorLiteral(vector!);
    const model = this.#embedder.modelId;
    if (s.mode === 'semantic') return this.#access.run((tx) => semanticSearch(tx, literal, model, s.limit, s.metric, filters));
    return this.#access.run((tx) =>
      hybridSearch(tx, s.query, literal, model, s.limit, { semantic: s.semantic_weight, keyword: s.keyword_weight, rrfK: s.rrf_k }, filters),
    );
  }
}
