import { z } from 'zod';
import { StewardError } from '../errors.ts';
import { suggestTrustAdjustment, type PastDecision } from '../domain/trust-suggestion.ts';
import type { Access } from '../services/access.ts';
import { limit, notFound, parseInput, uuid } from '../services/validation.ts';
import type { Embedder } from './embedders/embedder.ts';
import { envelopeQueryText, similarDecisions } from './evidence-queries.ts';
import { toVectorLiteral } from './vector-literal.ts';

// Guardrail learning: for an envelope, the most similar past decisions and a suggested
// trust adjustment with its reasons (src/domain/trust-suggestion.ts), recorded in
// public.trust_suggestions for a person to review. Nothing here writes guardrails: an
// accepted suggestion is a record of the review; the threshold changes only when someone
// edits the tenant's guardrails.

export const SUGGESTION_STATUSES = ['open', 'accepted', 'dismissed'] as const;

export interface TrustSuggestionRecord {
  id: string;
  tenant_id: string;
  envelope_id: string;
  tool_slug: string;
  embedding_model: string;
  current_threshold: number | null;
  suggested_threshold: number | null;
  adjustment: number;
  envelope_trust_score: number | null;
  reasons: string[];
  neighbours: (PastDecision & { evidence_id: string })[];
  status: (typeof SUGGESTION_STATUSES)[number];
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
  created_at: Date;
}

export const suggestInput = z.strictObject({ envelope_id: uuid, neighbours: z.number().int().min(1).max(100).default(10) });
export type SuggestInput = z.input<typeof suggestInput>;
export const listSuggestionsInput = z.strictObject({ tenant_id: uuid.optional(), status: z.enum(SUGGESTION_STATUSES).optional(), limit });
export type ListSuggestionsInput = z.input<typeof listSuggestionsInput>;
export const reviewInput = z.strictObject({
  id: uuid,
  status: z.enum(['accepted', 'dismissed']),
  reviewer: z.string().trim().min(1).max(200),
  note: z.string().trim().min(1).max(2000).optional(),
});
export type ReviewInput = z.input<typeof reviewInput>;

export interface TrustSuggestionService {
  /** Computes and records (replacing an open one for the same envelope and model) a suggestion; service role. */
  suggest(input: SuggestInput): Promise<TrustSuggestionRecord>;
  list(input?: ListSuggestionsInput): Promise<TrustSuggestionRecord[]>;
  /** Records a person's review; guardrails are untouched. An already reviewed one is `conflict`. */
  review(input: ReviewInput): Promise<TrustSuggestionRecord>;
}

const COLUMNS = `id, tenant_id, envelope_id, tool_slug, embedding_model, current_threshold, suggested_threshold,
  adjustment, envelope_trust_score, reasons, neighbours, status, reviewed_by, reviewed_at, review_note, created_at`;

interface EnvelopeFacts {
  tenant_id: string;
  tool_slug: string;
  trust_score: number | null;
  threshold: number | null;
}

export class SqlTrustSuggestionService implements TrustSuggestionService {
  readonly #access: Access;
  readonly #embedder: Embedder;

  constructor(access: Access, embedder: Embedder) {
    this.#access = access;
    this.#embedder = embedder;
  }

  async suggest(input: SuggestInput): Promise<TrustSuggestionRecord> {
    const s = parseInput(suggestInput, input);
    const found = await this.#access.run(async (tx) => {
      const facts = await tx.query<EnvelopeFacts>(
        `select x.tenant_id, x.tool_slug,
                case when jsonb_typeof(x.trust_context -> 'score') = 'number' then (x.trust_context ->> 'score')::float8 end as trust_score,
                (select g.trust_threshold::float8 from public.guardrails g where g.tenant_id = x.tenant_id) as threshold
           from (select tenant_id, tool_slug, trust_context from public.outbox where id = $1
                 union all select tenant_id, tool_slug, trust_context from public.outbox_dlq where id = $1) x
          limit 1`,
        [s.envelope_id],
      );
      return { facts: facts.rows[0], query: await envelopeQueryText(tx, s.envelope_id) };
    });
    if (!found.facts || found.query === undefined) throw notFound('envelope', 'envelope_id', s.envelope_id);
    const { facts, query } = found;
    const [vector] = await this.#embedder.embed([query]);
    const model = this.#embedder.modelId;
    return this.#access.run(async (tx) => {
      const similar = await similarDecisions(tx, s.envelope_id, toVectorLiteral(vector!), model, s.neighbours);
      const neighbours = similar.map((d) => ({
        evidence_id: d.evidence_id, envelope_id: d.envelope_id, tool_slug: d.tool_slug, decision: d.decision,
        outcome: d.outcome, trust_score: d.trust_score, similarity: Math.round(d.similarity * 1000) / 1000,
      }));
      const suggestion = suggestTrustAdjustment({ threshold: facts.threshold, envelopeScore: facts.trust_score, neighbours });
      // Replaces the open suggestion for this envelope and model, if any (its review is still to come).
      const res = await tx.query<TrustSuggestionRecord>(
        `insert into public.trust_suggestions (tenant_id, envelope_id, tool_slug, embedding_model, current_threshold,
           suggested_threshold, adjustment, envelope_trust_score, reasons, neighbours)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb)
         on conflict (tenant_id, envelope_id, embedding_model) where status = 'open' do update set
           tool_slug = excluded.tool_slug, current_threshold = excluded.current_threshold,
           suggested_threshold = excluded.suggested_threshold, adjustment = excluded.adjustment,
           envelope_trust_score = excluded.envelope_trust_score, reasons = excluded.reasons,
           neighbours = excluded.neighbours, created_at = now()
         returning ${COLUMNS}`,
        [facts.tenant_id, s.envelope_id, facts.tool_slug, model, facts.threshold, suggestion.suggested_threshold,
          suggestion.adjustment, facts.trust_score, JSON.stringify(suggestion.reasons), JSON.stringify(neighbours)],
      );
      return res.rows[0]!;
    });
  }

  async list(input: ListSuggestionsInput = {}): Promise<TrustSuggestionRecord[]> {
    const l = parseInput(listSuggestionsInput, input);
    return this.#access.run(async (tx) =>
      (await tx.query<TrustSuggestionRecord>(
        `select ${COLUMNS} from public.trust_suggestions
          where ($1::uuid is null or tenant_id = $1) and ($2::text is null or status = $2)
          order by created_at desc, id limit $3`,
        [l.tenant_id ?? null, l.status ?? null, l.limit],
      )).rows,
    );
  }

  async review(input: ReviewInput): Promise<TrustSuggestionRecord> {
    const r = parseInput(reviewInput, input);
    return this.#access.run(async (tx) => {
      const res = await tx.query<TrustSuggestionRecord>(
        `update public.trust_suggestions set status = $2, reviewed_by = $3, review_note = $4, reviewed_at = now()
          where id = $1 and status = 'open' returning ${COLUMNS}`,
        [r.id, r.status, r.reviewer, r.note ?? null],
      );
      if (res.rows[0]) return res.rows[0];
      const seen = await tx.query<{ status: string }>('select status from public.trust_suggestions where id = $1', [r.id]);
      if (seen.rows[0]) throw new StewardError('conflict', `suggestion ${r.id} was already ${seen.rows[0].status}`, { field: 'id' });
      throw notFound('trust suggestion', 'id', r.id);
    });
  }
}
