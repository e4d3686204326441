import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StewardError } from '../../src/errors.ts';
import { evaluateGuardrails, normaliseScopes, trustScore, type GuardrailDecision, type GuardrailInput } from '../../src/domain/guardrails.ts';

const DAY = new Date('2025-05-20T12:00:00Z'); // 08:00 in New York
const NIGHT = new Date('2025-05-21T03:00:00Z'); // 23:00 in New York

/** An envelope that passes everything: outside quiet hours, scopes granted, trusted, with evidence. */
function input(overrides: Partial<GuardrailInput> = {}): GuardrailInput {
  return {
    now: DAY,
    timeZone: 'America/New_York',
    guardrails: { quiet_hours: { start: 22, end: 6 }, trust_threshold: 0.8, require_evidence: true },
    requiredScopes: ['gmail.send'],
    grantedScopes: ['gmail.send', 'gmail.read'],
    trustContext: { score: 0.9 },
    evidenceCount: 1,
    approved: false,
    ...overrides,
  };
}

const QUIET = { now: NIGHT };
const NO_SCOPE = { grantedScopes: ['gmail.read'] };
const LOW_TRUST = { trustContext: { score: 0.5 } };
const NO_EVIDENCE = { evidenceCount: 0 };

function outcome(overrides: Partial<GuardrailInput>): GuardrailDecision['outcome'] {
  return evaluateGuardrails(input(overrides)).outcome;
}

describe('evaluateGuardrails: each outcome', () => {
  it('execute when everything passes', () => {
    const d = evaluateGuardrails(input());
    assert.equal(d.outcome, 'execute');
    assert.equal('reason' in d, false);
  });

  it('defer inside quiet hours, until the window ends in the tenant zone', () => {
    const d = evaluateGuardrails(input(QUIET));
    assert.equal(d.outcome, 'defer');
    if (d.outcome !== 'defer') return;
    assert.equal(d.until.toISOString(), '2025-05-21T10:00:00.000Z'); // 06:00 EDT
    assert.equal(d.guardrail, 'quiet_hours');
    assert.match(d.reason, /quiet hours 22:00–06:00/);
    assert.match(d.reason, /America\/New_York/);
    assert.match(d.reason, /2025-05-21T10:00:00\.000Z/);
  });

  it('reject when a required scope is not granted, listing the missing ones', () => {
    const d = evaluateGuardrails(input({ requiredScopes: ['gmail.send', 'gmail.compose', 'gmail.read'], grantedScopes: ['gmail.read'] }));
    assert.equal(d.outcome, 'reject');
    if (d.outcome !== 'reject') return;
    assert.equal(d.guardrail, 'scopes');
    assert.deepEqual(d.checks.scopeValidation.missingScopes, ['gmail.send', 'gmail.compose']);
    assert.match(d.reason, /lacks required scopes: gmail\.send, gmail\.compose/);
  });

  it('await_approval when the trust score is below the threshold', () => {
    const d = evaluateGuardrails(input(LOW_TRUST));
    assert.equal(d.outcome, 'await_approval');
    if (d.outcome !== 'await_approval') return;
    assert.equal(d.guardrail, 'trust');
    assert.equal(d.reason, 'trust score 0.5 is below the threshold 0.8: awaiting approval');
  });

  it('await_approval when evidence is required and there is none', () => {
    const d = evaluateGuardrails(input(NO_EVIDENCE));
    assert.equal(d.outcome, 'await_approval');
    if (d.outcome !== 'await_approval') return;
    assert.equal(d.guardrail, 'evidence');
    assert.equal(d.reason, 'evidence is required and none is recorded: awaiting approval');
  });

  it('await_approval naming both when trust and evidence fail', () => {
    const d = evaluateGuardrails(input({ ...NO_EVIDENCE, trustContext: {} }));
    assert.equal(d.outcome, 'await_approval');
    if (d.outcome !== 'await_approval') return;
    assert.equal(d.guardrail, 'trust');
    assert.equal(d.reason, 'no trust score (counted as 0) is below the threshold 0.8; evidence is required and none is recorded: awaiting approval');
  });
});

describe('evaluateGuardrails: order of precedence', () => {
  it('quiet hours beat a missing scope, low trust and missing evidence', () => {
    assert.equal(outcome({ ...QUIET, ...NO_SCOPE }), 'defer');
    assert.equal(outcome({ ...QUIET, ...LOW_TRUST }), 'defer');
    assert.equal(outcome({ ...QUIET, ...NO_EVIDENCE }), 'defer');
    assert.equal(outcome({ ...QUIET, ...NO_SCOPE, ...LOW_TRUST, ...NO_EVIDENCE }), 'defer');
  });

  it('a missing scope beats low trust and missing evidence', () => {
    assert.equal(outcome({ ...NO_SCOPE, ...LOW_TRUST }), 'reject');
    assert.equal(outcome({ ...NO_SCOPE, ...NO_EVIDENCE }), 'reject');
    assert.equal(outcome({ ...NO_SCOPE, ...LOW_TRUST, ...NO_EVIDENCE }), 'reject');
  });

  it('every check is evaluated whatever decides, so the audit row has them all', () => {
    const { checks } = evaluateGuardrails(input({ ...QUIET, ...NO_SCOPE, ...LOW_TRUST, ...NO_EVIDENCE }));
    assert.equal(checks.quietHours.allowed, false);
    assert.equal(checks.scopeValidation.allowed, false);
    assert.equal(checks.trust.allowed, false);
    assert.equal(checks.evidence.allowed, false);
  });
});

describe('evaluateGuardrails: approved envelopes', () => {
  const approved = { approved: true };

  it('skip the trust and evidence checks', () => {
    assert.equal(outcome({ ...approved, ...LOW_TRUST }), 'execute');
    assert.equal(outcome({ ...approved, ...NO_EVIDENCE }), 'execute');
    assert.equal(outcome({ ...approved, ...LOW_TRUST, ...NO_EVIDENCE, trustContext: {} }), 'execute');
  });

  it('the checks still report what the rules said, marked as waived', () => {
    const { checks } = evaluateGuardrails(input({ ...approved, ...LOW_TRUST, ...NO_EVIDENCE }));
    assert.equal(checks.trust.allowed, false);
    assert.equal(checks.trust.waivedByApproval, true);
    assert.equal(checks.evidence.allowed, false);
    assert.equal(checks.evidence.waivedByApproval, true);
    const passing = evaluateGuardrails(input(approved)).checks;
    assert.equal(passing.trust.waivedByApproval, false, 'nothing to waive');
    assert.equal(passing.evidence.waivedByApproval, false);
  });

  it('are still held by quiet hours', () => {
    assert.equal(outcome({ ...approved, ...QUIET }), 'defer');
  });

  it('are still rejected for a missing scope', () => {
    assert.equal(outcome({ ...approved, ...NO_SCOPE }), 'reject');
    assert.equal(outcome({ ...approved, grantedScopes: null }), 'reject');
  });
});

describe('evaluateGuardrails: trust', () => {
  const at = (score: unknown, threshold: number | null) =>
    evaluateGuardrails(input({ trustContext: { score }, guardrails: { quiet_hours: null, trust_threshold: threshold, require_evidence: false } }));

  it('a score equal to the threshold passes; just below blocks', () => {
    assert.equal(at(0.8, 0.8).outcome, 'execute');
    assert.equal(at(0.7999, 0.8).outcome, 'await_approval');
    assert.equal(at(0.8001, 0.8).outcome, 'execute');
  });

  it('threshold 1 needs a perfect score; threshold 0 passes anything, a missing score too', () => {
    assert.equal(at(1, 1).outcome, 'execute');
    assert.equal(at(0.9999, 1).outcome, 'await_approval');
    assert.equal(at(0, 0).outcome, 'execute');
    assert.equal(evaluateGuardrails(input({ trustContext: {}, guardrails: { quiet_hours: null, trust_threshold: 0, require_evidence: false } })).outcome, 'execute');
  });

  it('a null threshold is no trust gate', () => {
    const d = at(0, null);
    assert.equal(d.outcome, 'execute');
    assert.equal(d.checks.trust.allowed, true);
    assert.equal(d.checks.trust.threshold, null);
  });

  it('the score is clamped to [0, 1]', () => {
    assert.equal(at(1.7, 1).outcome, 'execute');
    assert.equal(at(1.7, 1).checks.trust.score, 1);
    assert.equal(at(-3, 0).checks.trust.score, 0);
    assert.equal(at(-3, 0).outcome, 'execute');
    assert.equal(at(-0.1, 0.1).outcome, 'await_approval');
  });

  it('a missing or non-numeric score counts as 0 and is flagged as a missing signal', () => {
    for (const score of [undefined, null, '0.9', true, [0.9], { value: 0.9 }, Number.NaN, Infinity]) {
      const d = at(score, 0.5);
      assert.equal(d.outcome, 'await_approval', JSON.stringify(score));
      assert.equal(d.checks.trust.score, 0);
      assert.equal(d.checks.trust.missingSignal, true);
      if (d.outcome === 'await_approval') assert.match(d.reason, /^no trust score \(counted as 0\)/);
    }
    assert.equal(at(0.5, 0.5).checks.trust.missingSignal, false);
    assert.equal(at(0, 0.5).checks.trust.missingSignal, false, 'a real 0 is a signal');
  });

  it('trustScore reads trust_context.score only', () => {
    assert.deepEqual(trustScore({ score: 0.42, trust: 0.99 }), { score: 0.42, missingSignal: false });
    assert.deepEqual(trustScore({ trust: 0.99 }), { score: 0, missingSignal: true });
  });
});

describe('evaluateGuardrails: scopes', () => {
  it('compare trimmed and lower-cased', () => {
    const d = evaluateGuardrails(input({ requiredScopes: [' Gmail.Send ', 'SLACK:write'], grantedScopes: ['gmail.send', ' slack:WRITE\t'] }));
    assert.equal(d.outcome, 'execute');
    assert.deepEqual(d.checks.scopeValidation, {
      allowed: true,
      missingScopes: [],
      requestedScopes: ['gmail.send', 'slack:write'],
      enabledScopes: ['gmail.send', 'slack:write'],
      accountConnected: true,
    });
  });

  it('nothing required passes, even without a connected account', () => {
    assert.equal(outcome({ requiredScopes: [], grantedScopes: null }), 'execute');
    assert.equal(outcome({ requiredScopes: ['', '   '], grantedScopes: [] }), 'execute');
  });

  it('without a connected account every required scope is missing', () => {
    const d = evaluateGuardrails(input({ requiredScopes: ['gmail.send', 'Gmail.Read'], grantedScopes: null }));
    assert.equal(d.outcome, 'reject');
    if (d.outcome !== 'reject') return;
    assert.deepEqual(d.checks.scopeValidation, {
      allowed: false,
      missingScopes: ['gmail.send', 'gmail.read'],
      requestedScopes: ['gmail.send', 'gmail.read'],
      enabledScopes: [],
      accountConnected: false,
    });
    assert.equal(d.reason, 'no connected account; the tool requires scopes: gmail.send, gmail.read');
  });

  it('an account with no scopes grants nothing', () => {
    assert.equal(outcome({ grantedScopes: [] }), 'reject');
  });

  it('missing scopes are listed once each, in the order required', () => {
    const d = evaluateGuardrails(input({ requiredScopes: ['c', 'a', 'C ', 'b', 'a'], grantedScopes: ['b'] }));
    assert.deepEqual(d.checks.scopeValidation.missingScopes, ['c', 'a']);
  });

  it('a scope is matched whole, never as a prefix or substring', () => {
    assert.equal(outcome({ requiredScopes: ['gmail.send'], grantedScopes: ['gmail', 'gmail.send.all', 'gmail.sen'] }), 'reject');
  });

  it('normaliseScopes trims, lower-cases, drops blanks and repeats', () => {
    assert.deepEqual(normaliseScopes([' A ', 'a', '', ' ', 'B']), ['a', 'b']);
  });
});

describe('evaluateGuardrails: evidence', () => {
  const evidence = (require_evidence: boolean, evidenceCount: number) =>
    evaluateGuardrails(input({ evidenceCount, guardrails: { quiet_hours: null, trust_threshold: null, require_evidence } }));

  it('required: none blocks, one or more pass', () => {
    assert.equal(evidence(true, 0).outcome, 'await_approval');
    assert.equal(evidence(true, 1).outcome, 'execute');
    assert.equal(evidence(true, 12).outcome, 'execute');
    assert.deepEqual(evidence(true, 0).checks.evidence, { required: true, allowed: false, missingEvidence: true, evidenceCount: 0, waivedByApproval: false });
  });

  it('not required: none is fine', () => {
    assert.equal(evidence(false, 0).outcome, 'execute');
    assert.deepEqual(evidence(false, 0).checks.evidence, { required: false, allowed: true, missingEvidence: false, evidenceCount: 0, waivedByApproval: false });
  });
});

describe('evaluateGuardrails: no guardrails row', () => {
  const none = { guardrails: null };

  it('passes quiet hours, trust and evidence', () => {
    assert.equal(outcome({ ...none, now: NIGHT, trustContext: {}, evidenceCount: 0 }), 'execute');
  });

  it('still checks scopes', () => {
    assert.equal(outcome({ ...none, ...NO_SCOPE }), 'reject');
    assert.equal(outcome({ ...none, grantedScopes: null }), 'reject');
  });

  it('reports each check as not configured', () => {
    const { checks } = evaluateGuardrails(input({ ...none, trustContext: {}, evidenceCount: 0 }));
    assert.deepEqual(checks.quietHours, {
      allowed: true,
      configured: false,
      window: null,
      currentTime: '2025-05-20T08:00:00-04:00',
      message: 'no quiet hours configured',
      timeZone: 'America/New_York',
      until: null,
    });
    assert.deepEqual(checks.trust, { allowed: true, score: 0, threshold: null, source: 'trust_context.score', missingSignal: true, waivedByApproval: false });
    assert.equal(checks.evidence.required, false);
  });

  it('still refuses an invalid time zone', () => {
    assert.throws(
      () => evaluateGuardrails(input({ ...none, timeZone: 'Nowhere/Special' })),
      (e) => e instanceof StewardError && e.code === 'invalid_input' && e.field === 'timeZone',
    );
  });
});

describe('evaluateGuardrails: the checks payload', () => {
  it("carries the original system's UI keys for every check", () => {
    const { checks } = evaluateGuardrails(input());
    const has = (o: object, keys: string[]) => keys.forEach((k) => assert.ok(k in o, k));
    has(checks.quietHours, ['allowed', 'configured', 'window', 'currentTime', 'message']);
    has(checks.trust, ['allowed', 'score', 'threshold', 'source', 'missingSignal']);
    has(checks.scopeValidation, ['allowed', 'missingScopes', 'requestedScopes', 'enabledScopes']);
    has(checks.evidence, ['required', 'allowed', 'missingEvidence']);
  });

  it('the whole record of a deferred envelope', () => {
    const d = evaluateGuardrails(input({ ...QUIET, ...LOW_TRUST }));
    assert.deepEqual(d, {
      outcome: 'defer',
      until: new Date('2025-05-21T10:00:00Z'),
      guardrail: 'quiet_hours',
      reason: 'inside quiet hours 22:00–06:00 (America/New_York, local 2025-05-20T23:00:00-04:00); deferred until 2025-05-21T10:00:00.000Z',
      checks: {
        quietHours: {
          allowed: false,
          configured: true,
          window: { start: 22, end: 6 },
          currentTime: '2025-05-20T23:00:00-04:00',
          message: 'inside quiet hours 22:00–06:00 (America/New_York, local 2025-05-20T23:00:00-04:00); deferred until 2025-05-21T10:00:00.000Z',
          timeZone: 'America/New_York',
          until: new Date('2025-05-21T10:00:00Z'),
        },
        trust: { allowed: false, score: 0.5, threshold: 0.8, source: 'trust_context.score', missingSignal: false, waivedByApproval: false },
        scopeValidation: { allowed: true, missingScopes: [], requestedScopes: ['gmail.send'], enabledScopes: ['gmail.send', 'gmail.read'], accountConnected: true },
        evidence: { required: true, allowed: true, missingEvidence: false, evidenceCount: 1, waivedByApproval: false },
      },
    });
  });

  it('survives a JSON round trip for the audit payload (dates become ISO strings)', () => {
    const d = evaluateGuardrails(input(QUIET));
    const json = JSON.parse(JSON.stringify(d)) as { until: string; checks: { quietHours: { until: string } } };
    assert.equal(json.until, '2025-05-21T10:00:00.000Z');
    assert.equal(json.checks.quietHours.until, '2025-05-21T10:00:00.000Z');
  });

  it('outside quiet hours the message says so', () => {
    assert.equal(evaluateGuardrails(input()).checks.quietHours.message, 'outside quiet hours 22:00–06:00 (America/New_York)');
  });
});
