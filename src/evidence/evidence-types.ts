// The shapes evidence search returns (public.evidence_hit in 010_evidence_search.sql).

export const SOURCE_TYPES = ['tool_output', 'proposal', 'audit', 'note', 'document'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const SEARCH_MODES = ['semantic', 'keyword', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export const METRICS = ['cosine', 'inner_product', 'l2'] as const;
export type Metric = (typeof METRICS)[number];

export interface EvidenceHit {
  id: string;
  tenant_id: string;
  source_type: SourceType;
  source_id: string | null;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown>;
  created_at: Date;
  /** Higher is better: the metric's similarity, ts_rank_cd, or the RRF sum. */
  score: number;
  /** The chosen metric's distance (semantic part), else null. */
  distance: number | null;
  semantic_rank: number | null;
  keyword_rank: number | null;
}
