// Guardrail learning: from the decisions taken on past proposals most similar to a new
// one, a suggested change to the tenant's trust threshold, with its reasons. A heuristic
// for a person to review (docs/implementation/evidence-and-search.md), never applied.
//
// Each similar decision is a signal, weighted by its similarity (cosine, clipped at 0):
//   approved by a person            +1     (people trusted proposals like this one)
//   rejected by a person            −1
//   ran unasked and succeeded       +0.25  (weak: nobody was asked)
//   ran unasked and failed          −0.5
//   anything else (blocked, conflict) 0   (the guardrails or the provider decided)
// net = Σ w·signal / Σ w over the signals. With too little support, or a mixed net, the
// suggestion is no change; otherwise the threshold moves against the net by up to maxStep.

export interface PastDecision {
  envelope_id: string;
  tool_slug: string | null;
  /** approved | rejected | blocked | auto (public.evidence_proposal_outcome). */
  decision: string;
  /** succeeded | conflict | rejected | failed. */
  outcome: string | null;
  trust_score: number | null;
  similarity: number;
}

export interface TrustSuggestionInput {
  threshold: number | null;
  envelopeScore: number | null;
  neighbours: readonly PastDecision[];
  /** The largest change suggested at once (default 0.1). */
  maxStep?: number;
  /** Σ weights below which nothing is suggested (default 1.5: about two close decisions). */
  minSupport?: number;
  /** |net| below which the evidence counts as mixed (default 0.2). */
  minNet?: number;
}

export interface TrustSuggestion {
  /** Added to the threshold: negative = trust proposals like this more. */
  adjustment: number;
  suggested_threshold: number | null;
  /** In [-1, 1]: weighted agreement of the similar decisions (positive = approved). */
  net: number;
  /** Σ similarity over the decisions that carried a signal. */
  support: number;
  reasons: string[];
}

export function signalOf(d: Pick<PastDecision, 'decision' | 'outcome'>): number {
  if (d.decision === 'approved') return 1;
  if (d.decision === 'rejected') return -1;
  if (d.decision === 'auto' && d.outcome === 'succeeded') return 0.25;
  if (d.decision === 'auto' && d.outcome === 'failed') return -0.5;
  return 0;
}

const round2 = (x: number): number => Math.round(x * 100) / 100 + 0; // + 0: no -0
const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

export function suggestTrustAdjustment(input: TrustSuggestionInput): TrustSuggestion {
  const maxStep = input.maxStep ?? 0.1;
  const minSupport = input.minSupport ?? 1.5;
  const minNet = input.minNet ?? 0.2;
  const weighted = input.neighbours.map((n) => ({ ...n, w: Math.max(0, n.similarity), s: signalOf(n) }));
  const signalled = weighted.filter((n) => n.s !== 0 && n.w > 0);
  const support = signalled.reduce((sum, n) => sum + n.w, 0);
  const net = support > 0 ? signalled.reduce((sum, n) => sum + n.w * n.s, 0) / support : 0;

  const reasons: string[] = [];
  const group = (label: string, pick: (n: (typeof weighted)[number]) => boolean) => {
    const found = weighted.filter(pick);
    if (found.length === 0) return;
    const sims = found.map((n) => n.similarity);
    const range = found.length === 1 ? `similarity ${sims[0]!.toFixed(2)}` : `similarity ${Math.min(...sims).toFixed(2)}–${Math.max(...sims).toFixed(2)}`;
    reasons.push(`${found.length} similar past proposal${found.length === 1 ? ' was' : 's were'} ${label} (${range})`);
  };
  group('approved by a person', (n) => n.decision === 'approved');
  group('rejected by a person', (n) => n.decision === 'rejected');
  group('run without approval and succeeded', (n) => n.decision === 'auto' && n.outcome === 'succeeded');
  group('run without approval and failed', (n) => n.decision === 'auto' && n.outcome === 'failed');
  group('blocked by the guardrails (not counted)', (n) => n.decision === 'blocked');

  let adjustment = 0;
  if (input.neighbours.length === 0) {
    reasons.push('no similar past decisions yet: no change suggested');
  } else if (support < minSupport) {
    reasons.push(`too little similar history (support ${support.toFixed(2)} < ${minSupport}): no change suggested`);
  } else if (Math.abs(net) < minNet) {
    reasons.push(`similar decisions are mixed (net ${net.toFixed(2)}): no change suggested`);
  } else {
    adjustment = round2(-maxStep * net);
    if (adjustment < 0) {
      const approvedScores = weighted.filter((n) => n.decision === 'approved' && n.trust_score !== null).map((n) => n.trust_score!);
      if (approvedScores.length > 0 && input.threshold !== null && Math.min(...approvedScores) < input.threshold) {
        reasons.push(`people approved similar proposals with trust scores as low as ${Math.min(...approvedScores).toFixed(2)}, below the threshold ${input.threshold.toFixed(2)}`);
      }
      reasons.push(`similar proposals were mostly accepted (net ${net.toFixed(2)}): lower the threshold by ${(-adjustment).toFixed(2)}`);
    } else {
      reasons.push(`similar proposals were mostly refused or failed (net ${net.toFixed(2)}): raise the threshold by ${adjustment.toFixed(2)}`);
    }
  }
  const suggested = input.threshold === null ? null : round2(clamp01(input.threshold + adjustment));
  if (suggested !== null && input.threshold !== null && input.envelopeScore !== null && adjustment !== 0) {
    const before = input.envelopeScore >= input.threshold;
    const after = input.envelopeScore >= suggested;
    if (before !== after) {
      reasons.push(`with ${suggested.toFixed(2)} this envelope (trust ${input.envelopeScore.toFixed(2)}) would ${after ? 'no longer need' : 'need'} approval`);
    }
  }
  reasons.push('a suggestion only: the tenant\'s trust threshold changes only when a person edits its guardrails');
  return { adjustment, suggested_threshold: suggested, net: round2(net), support: round2(support), reasons };
}
