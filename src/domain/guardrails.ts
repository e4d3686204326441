// The guardrails the worker applies to a claimed envelope before it executes, and the
// reason for the outcome. Pure: the worker loads the inputs and writes the decision, with
// its `checks`, to the audit payload.
import type { Guardrails } from '../services/guardrail-service.ts';
import { evaluateQuietHours, formatWindow } from './quiet-hours.ts';
import type { QuietHours } from './quiet-hours.ts';

export interface GuardrailInput {
  now: Date;
  /** The tenant's IANA time zone (tenants.timezone). */
  timeZone: string;
  /** The tenant's guardrails row; null = none, and then only the scope check applies. */
  guardrails: Pick<Guardrails, 'quiet_hours' | 'trust_threshold' | 'require_evidence'> | null;
  /** tool_catalog.required_scopes of the envelope's tool. */
  requiredScopes: readonly string[];
  /** connected_accounts.scopes; null = no connected account, so any required scope is missing. */
  grantedScopes: readonly string[] | null;
  /**
   * connected_accounts.status of the envelope's account, when it names one of its
   * tenant's; null = it names none. Absent (undefined): not known, and the account check
   * is skipped (the scope check then treats an account that is not active as none).
   */
  accountStatus?: string | null;
  /** The envelope's trust_context; its `score` is the trust signal. */
  trustContext: Record<string, unknown>;
  /** Evidence rows recorded for the envelope. */
  evidenceCount: number;
  /** Approved by a person (outbox.approved_at set): trust and evidence are not asked again. */
  approved: boolean;
}

// The check objects carry the original system's UI keys (reference/original-system.md),
// so a console built for it reads them unchanged; keys it did not have come after.
export interface QuietHoursCheck {
  allowed: boolean;
  configured: boolean;
  window: QuietHours | null;
  /** The tenant's wall-clock time, ISO 8601 with its offset. */
  currentTime: string;
  message: string;
  timeZone: string;
  /** The end of the window, when not allowed. */
  until: Date | null;
}

export interface TrustCheck {
  /** The rule's own answer, before any approval. */
  allowed: boolean;
  /** trust_context.score clamped to [0, 1]; 0 when missing or not a number. */
  score: number;
  /** null = no trust gate. */
  threshold: number | null;
  /** Where the score was read. */
  source: 'trust_context.score';
  /** The score was absent or not a number (and so counted as 0). */
  missingSignal: boolean;
  /** The rule failed but a person had approved the envelope, so it did not hold it back. */
  waivedByApproval: boolean;
}

export interface ScopeValidationCheck {
  allowed: boolean;
  /** Required but not granted, normalised, in the order required. */
  missingScopes: string[];
  /** The tool's required scopes, trimmed, lower-cased, blanks and repeats dropped. */
  requestedScopes: string[];
  /** The connected account's scopes, normalised the same way ([] without an account). */
  enabledScopes: string[];
  accountConnected: boolean;
}

export interface AccountCheck {
  /** The account can act: it is active, or the envelope names none of the tenant's (the scope check decides). */
  allowed: boolean;
  /** connected_accounts.status; null when the envelope names none of the tenant's accounts. */
  status: string | null;
  message: string;
}

export interface EvidenceCheck {
  required: boolean;
  /** The rule's own answer, before any approval. */
  allowed: boolean;
  missingEvidence: boolean;
  evidenceCount: number;
  waivedByApproval: boolean;
}

export interface GuardrailChecks {
  quietHours: QuietHoursCheck;
  trust: TrustCheck;
  scopeValidation: ScopeValidationCheck;
  evidence: EvidenceCheck;
  /** Present when the caller knew the account's status (GuardrailInput.accountStatus). */
  account?: AccountCheck;
}

/** Which guardrail decided a non-execute outcome (the first that failed, in order). */
export type GuardrailName = 'quiet_hours' | 'account' | 'scopes' | 'trust' | 'evidence';

export type GuardrailDecision =
  | { outcome: 'defer'; until: Date; guardrail: 'quiet_hours'; reason: string; checks: GuardrailChecks }
  | { outcome: 'reject'; guardrail: 'scopes'; reason: string; checks: GuardrailChecks }
  | { outcome: 'await_approval'; guardrail: 'account' | 'trust' | 'evidence'; reason: string; checks: GuardrailChecks }
  | { outcome: 'execute'; checks: GuardrailChecks };

export type GuardrailOutcome = GuardrailDecision['outcome'];

/**
 * The outcome, first match wins:
 * 1. inside quiet hours → defer until the window ends (even when approved: an approval
 *    says the action is wanted, not that it may run at 3 a.m.);
 * 2. the envelope's connected account exists but is not active (expired, revoked,
 *    disabled, not linked yet) → await approval (even when approved: the account must be
 *    repaired first, then the envelope approved again). The same outcome as the Composio
 *    executor's when the account turns out unusable at execution, so an expiry holds
 *    every envelope for it alike instead of rejecting some (docs/implementation/composio-tooling.md);
 * 3. a required scope not granted → reject (retrying cannot grant it; even when approved:
 *    a person cannot approve what the account cannot do);
 * 4. unless approved: trust below the threshold, or evidence required and none → await approval;
 * 5. otherwise execute.
 * Every check is evaluated regardless, so the audit row shows the whole picture.
 * An invalid time zone or quiet-hours window throws `invalid_input` (see evaluateQuietHours).
 */
export function evaluateGuardrails(input: GuardrailInput): GuardrailDecision {
  const checks: GuardrailChecks = {
    quietHours: checkQuietHours(input),
    trust: checkTrust(input),
    scopeValidation: checkScopes(input.requiredScopes, input.grantedScopes),
    evidence: checkEvidence(input),
  };
  if (input.accountStatus !== undefined) checks.account = checkAccount(input.accountStatus);
  const { quietHours, scopeValidation, trust, evidence, account } = checks;

  if (!quietHours.allowed) {
    return { outcome: 'defer', until: quietHours.until!, guardrail: 'quiet_hours', reason: quietHours.message, checks };
  }
  // An approval waives trust and evidence, and this hold comes before they are asked:
  // what they found goes into the reason, so whoever approves sees all they waive.
  const heldBack = input.approved ? [] : approvalReasons(trust, evidence);
  if (account && !account.allowed) {
    return { outcome: 'await_approval', guardrail: 'account', reason: [account.message, ...heldBack].join('; '), checks };
  }
  if (!scopeValidation.allowed) {
    const reason = scopeValidation.accountConnected
      ? `the connected account lacks required scopes: ${scopeValidation.missingScopes.join(', ')}`
      : `no connected account; the tool requires scopes: ${scopeValidation.missingScopes.join(', ')}`;
    return { outcome: 'reject', guardrail: 'scopes', reason, checks };
  }
  if (heldBack.length > 0) {
    return { outcome: 'await_approval', guardrail: trust.allowed ? 'evidence' : 'trust', reason: `${heldBack.join('; ')}: awaiting approval`, checks };
  }
  return { outcome: 'execute', checks };
}

/** Why trust and evidence would hold the envelope for approval; [] when they would not. */
function approvalReasons(trust: TrustCheck, evidence: EvidenceCheck): string[] {
  const reasons: string[] = [];
  if (!trust.allowed) {
    const signal = trust.missingSignal ? 'no trust score (counted as 0)' : `trust score ${trust.score}`;
    reasons.push(`${signal} is below the threshold ${trust.threshold}`);
  }
  if (!evidence.allowed) reasons.push('evidence is required and none is recorded');
  return reasons;
}

function checkQuietHours({ guardrails, timeZone, now }: GuardrailInput): QuietHoursCheck {
  const window = guardrails?.quiet_hours ?? null;
  const q = evaluateQuietHours(window, timeZone, now);
  const base = { configured: window !== null, window, currentTime: q.localTime, timeZone };
  if (q.allowed) {
    const message = window === null ? 'no quiet hours configured' : `outside quiet hours ${formatWindow(window)} (${timeZone})`;
    return { ...base, allowed: true, message, until: null };
  }
  const message = `inside quiet hours ${formatWindow(q.window)} (${timeZone}, local ${q.localTime}); deferred until ${q.until.toISOString()}`;
  return { ...base, allowed: false, message, until: q.until };
}

function checkAccount(status: string | null): AccountCheck {
  if (status === null) return { allowed: true, status, message: "the envelope names none of the tenant's connected accounts" };
  if (status === 'active') return { allowed: true, status, message: 'the connected account is active' };
  return { allowed: false, status, message: `the connected account is ${status}: awaiting approval once it is repaired (re-authorised, enabled or linked)` };
}

/**
 * Only a JSON number counts as a score: trust_context is written by the agent, and a
 * string such as "0.9" is more likely a mistake than a signal, so it counts as missing.
 */
export function trustScore(trustContext: Record<string, unknown>): { score: number; missingSignal: boolean } {
  const raw = trustContext.score;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return { score: 0, missingSignal: true };
  return { score: Math.min(1, Math.max(0, raw)), missingSignal: false };
}

function checkTrust({ guardrails, trustContext, approved }: GuardrailInput): TrustCheck {
  const { score, missingSignal } = trustScore(trustContext);
  const threshold = guardrails?.trust_threshold ?? null;
  // ≥: a score equal to the threshold passes (0.8 at 0.8), as in the original.
  const allowed = threshold === null || score >= threshold;
  return { allowed, score, threshold, source: 'trust_context.score', missingSignal, waivedByApproval: approved && !allowed };
}

function checkEvidence({ guardrails, evidenceCount, approved }: GuardrailInput): EvidenceCheck {
  const required = guardrails?.require_evidence ?? false;
  const allowed = !required || evidenceCount > 0;
  return { required, allowed, missingEvidence: !allowed, evidenceCount, waivedByApproval: approved && !allowed };
}

/** Scopes compare trimmed and lower-cased ("Gmail.Send " grants "gmail.send"). */
export function normaliseScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))];
}

function checkScopes(required: readonly string[], granted: readonly string[] | null): ScopeValidationCheck {
  const requestedScopes = normaliseScopes(required);
  const enabledScopes = normaliseScopes(granted ?? []);
  const enabled = new Set(enabledScopes);
  const missingScopes = requestedScopes.filter((s) => !enabled.has(s));
  return { allowed: missingScopes.length === 0, missingScopes, requestedScopes, enabledScopes, accountConnected: granted !== null };
}
