import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signalOf, suggestTrustAdjustment, type PastDecision } from '../../src/domain/trust-suggestion.ts';

const past = (decision: string, outcome: string, similarity: number, trust_score: number | null = null): PastDecision =>
  ({ envelope_id: `e-${decision}-${similarity}`, tool_slug: 'GMAIL__drafts.create', decision, outcome, similarity, trust_score });

describe('trust suggestion', () => {
  it('weighs people above outcomes; guardrail blocks and conflicts carry no signal', () => {
    assert.deepEqual(
      [past('approved', 'succeeded', 1), past('rejected', 'rejected', 1), past('auto', 'succeeded', 1), past('auto', 'failed', 1), past('blocked', 'rejected', 1), past('auto', 'conflict', 1)].map(signalOf),
      [1, -1, 0.25, -0.5, 0, 0],
    );
  });

  it('similar proposals that people approved suggest lowering the threshold, with reasons', () => {
    const s = suggestTrustAdjustment({ threshold: 0.8, envelopeScore: 0.75, neighbours: [past('approved', 'succeeded', 0.9, 0.62), past('approved', 'succeeded', 0.8, 0.7)] });
    assert.equal(s.adjustment, -0.1);
    assert.equal(s.suggested_threshold, 0.7);
    assert.equal(s.net, 1);
    assert.ok(s.reasons.includes('2 similar past proposals were approved by a person (similarity 0.80–0.90)'));
    assert.ok(s.reasons.includes('people approved similar proposals with trust scores as low as 0.62, below the threshold 0.80'));
    assert.ok(s.reasons.includes('with 0.70 this envelope (trust 0.75) would no longer need approval'));
    assert.match(s.reasons.at(-1)!, /a suggestion only/);
  });

  it('refusals and failures suggest raising it, bounded by maxStep and [0, 1]', () => {
    const s = suggestTrustAdjustment({ threshold: 0.95, envelopeScore: null, neighbours: [past('rejected', 'rejected', 0.9), past('auto', 'failed', 0.9)], maxStep: 0.2 });
    assert.equal(s.net, -0.75); // (−1·0.9 − 0.5·0.9) / 1.8
    assert.equal(s.adjustment, 0.15);
    assert.equal(s.suggested_threshold, 1);
  });

  it('suggests nothing on little, mixed or no history, and without a threshold has no target', () => {
    assert.equal(suggestTrustAdjustment({ threshold: 0.8, envelopeScore: 0.5, neighbours: [] }).adjustment, 0);
    assert.equal(suggestTrustAdjustment({ threshold: 0.8, envelopeScore: 0.5, neighbours: [past('approved', 'succeeded', 0.9)] }).adjustment, 0);
    const mixed = suggestTrustAdjustment({ threshold: 0.8, envelopeScore: 0.5, neighbours: [past('approved', 'succeeded', 0.9), past('rejected', 'rejected', 0.9)] });
    assert.equal(mixed.adjustment, 0);
    assert.ok(mixed.reasons.some((r) => r.startsWith('similar decisions are mixed')));
    const none = suggestTrustAdjustment({ threshold: null, envelopeScore: 0.5, neighbours: [past('approved', 'succeeded', 0.9), past('approved', 'succeeded', 0.9)] });
    assert.equal(none.suggested_threshold, null);
    assert.equal(none.adjustment, -0.1);
  });

  it('ignores negative similarity (opposites are not evidence)', () => {
    const s = suggestTrustAdjustment({ threshold: 0.8, envelopeScore: 0.5, neighbours: [past('rejected', 'rejected', -0.9), past('approved', 'succeeded', 0.9), past('approved', 'succeeded', 0.9)] });
    assert.equal(s.net, 1);
  });
});
