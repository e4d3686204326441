import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateGuardrails, type GuardrailInput } from '../../src/domain/guardrails.ts';
import { completionForExecution } from '../../src/domain/envelope-outcome.ts';
import { DEFAULT_RETRY_POLICIES } from '../../src/domain/retry-policy.ts';

// The account guardrail (GuardrailInput.accountStatus) and the executor's
// account_unusable end reach the same outcome: awaiting approval, never a reject or the DLQ.

const input = (over: Partial<GuardrailInput> = {}): GuardrailInput => ({
  now: new Date('2026-06-01T12:00:00Z'), timeZone: 'UTC', guardrails: { quiet_hours: null, trust_threshold: 0.5, require_evidence: false },
  requiredScopes: ['gmail.send'], grantedScopes: ['gmail.send'], trustContext: { score: 0.9 }, evidenceCount: 0, approved: false, ...over,
});

describe('evaluateGuardrails: the connected account', () => {
  it('an account that is not active holds the envelope for approval, before the scope check, even when approved', () => {
    for (const status of ['expired', 'revoked', 'inactive', 'failed', 'pending']) {
      for (const approved of [false, true]) {
        const d = evaluateGuardrails(input({ accountStatus: status, grantedScopes: null, approved }));
        assert.equal(d.outcome, 'await_approval', status);
        assert.ok(d.outcome === 'await_approval' && d.guardrail === 'account');
        assert.match(d.reason, new RegExp(`the connected account is ${status}`));
        assert.deepEqual(d.checks.account, { allowed: false, status, message: d.reason }, 'trust and evidence pass: the reason is the account alone');
      }
    }
  });

  it('the hold also names what trust and evidence found, since an approval waives them', () => {
    const d = evaluateGuardrails(input({ accountStatus: 'expired', trustContext: { score: 0.2 }, guardrails: { quiet_hours: null, trust_threshold: 0.5, require_evidence: true } }));
    assert.ok(d.outcome === 'await_approval' && d.guardrail === 'account');
    assert.match(d.reason, /^the connected account is expired: .*; trust score 0\.2 is below the threshold 0\.5; evidence is required and none is recorded$/);
    const approved = evaluateGuardrails(input({ accountStatus: 'expired', trustContext: { score: 0.2 }, approved: true }));
    assert.doesNotMatch(approved.outcome === 'await_approval' ? approved.reason : '', /trust/);
  });

  it('an active account, or none of the tenant\'s, leaves the decision to the other checks', () => {
    assert.equal(evaluateGuardrails(input({ accountStatus: 'active' })).outcome, 'execute');
    const none = evaluateGuardrails(input({ accountStatus: null, grantedScopes: null }));
    assert.ok(none.outcome === 'reject' && none.guardrail === 'scopes');
    assert.equal(none.checks.account?.allowed, true);
  });

  it('quiet hours still come first', () => {
    const d = evaluateGuardrails(input({ accountStatus: 'expired', guardrails: { quiet_hours: { start: 11, end: 13 }, trust_threshold: null, require_evidence: false } }));
    assert.equal(d.outcome, 'defer');
  });

  it('without accountStatus nothing changes: no account check in the payload', () => {
    const d = evaluateGuardrails(input());
    assert.equal(d.outcome, 'execute');
    assert.ok(!('account' in d.checks));
  });
});

describe('completionForExecution: account_unusable', () => {
  it('holds the envelope in awaiting_approval with the reason; the run counts as an attempt', () => {
    const c = completionForExecution({
      id: 'e1', attempts: 0, policy: DEFAULT_RETRY_POLICIES.medium, now: new Date(0), random: () => 0.5, latencyMs: 12,
      end: { kind: 'account_unusable', error: 'connected account ca_1 is expired' },
    });
    assert.deepEqual(c, { id: 'e1', attempted: true, latency_ms: 12, to: 'awaiting_approval', transition: 'await_approval', error: 'connected account ca_1 is expired' });
  });
});
