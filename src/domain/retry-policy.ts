// When a failed envelope runs again, per risk tier: exponential backoff with full jitter
// (AWS Architecture Blog, "Exponential Backoff And Jitter"), a provider's Retry-After
// taking precedence. Pure: the caller supplies the clock and the random source.
import { DateTime } from 'luxon';
import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { RiskTier } from '../services/validation.ts';

export interface RetryPolicy {
  /** Executions in all, the first included: 3 = the first try and two retries. */
  readonly maxAttempts: number;
  /** The backoff ceiling after the first failed attempt; it doubles with each one after. */
  readonly baseDelayMs: number;
  /** The ceiling never grows beyond this. */
  readonly maxDelayMs: number;
}

export type RetryPolicies = Readonly<Record<RiskTier, RetryPolicy>>;

/** Per-tier overrides as configured: any subset of tiers and, per tier, of fields. */
export type RetryPolicyOverrides = { readonly [T in RiskTier]?: Partial<RetryPolicy> };

/**
 * The riskier an action, the fewer and the slower its retries. A low-risk action (a
 * read, a draft) is cheap to repeat, so it retries often and soon. A high-risk one (a
 * payment, an email to a customer) may have taken effect despite the error the worker
 * saw; every repeat is another chance of doing it twice should the provider ignore the
 * idempotency key, so it gets one retry, late, and then the DLQ, where a person looks.
 * medium is the original system's single global value of 3 attempts.
 */
export const DEFAULT_RETRY_POLICIES: RetryPolicies = Object.freeze({
  low: Object.freeze({ maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 }),
  medium: Object.freeze({ maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 300_000 }),
  high: Object.freeze({ maxAttempts: 2, baseDelayMs: 5_000, maxDelayMs: 600_000 }),
});

/**
 * The longest a Retry-After is obeyed: 24 h. A provider may ask for longer (a daily
 * quota spent), or send a nonsense date; beyond a day the envelope is better retried
 * and, if still refused, counted against its attempts than parked out of sight.
 */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

const positiveInt = z.number().int().positive();
const tierOverrides = z.strictObject({ maxAttempts: positiveInt, baseDelayMs: positiveInt, maxDelayMs: positiveInt }).partial();
const overridesSchema = z.strictObject({ low: tierOverrides, medium: tierOverrides, high: tierOverrides }).partial();

/**
 * The defaults with `overrides` applied tier by tier and field by field. Bad config is a
 * `config_invalid` StewardError naming the field (`high.maxAttempts`); base ≤ cap is
 * checked after merging, so an override of one field is checked against the other's default.
 */
export function resolveRetryPolicies(overrides: unknown = {}): RetryPolicies {
  const parsed = overridesSchema.safeParse(overrides);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A key that is not allowed sits under `keys`, not in the path: name it.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    throw configInvalid(path.length > 0 ? path.join('.') : 'retryPolicies', issue.message);
  }
  const resolved = {} as Record<RiskTier, RetryPolicy>;
  for (const tier of Object.keys(DEFAULT_RETRY_POLICIES) as RiskTier[]) {
    const given = Object.fromEntries(Object.entries(parsed.data[tier] ?? {}).filter(([, v]) => v !== undefined));
    const policy = Object.freeze({ ...DEFAULT_RETRY_POLICIES[tier], ...given });
    if (policy.baseDelayMs > policy.maxDelayMs) {
      throw configInvalid(`${tier}.baseDelayMs`, `${policy.baseDelayMs} exceeds ${tier}.maxDelayMs (${policy.maxDelayMs})`);
    }
    resolved[tier] = policy;
  }
  return Object.freeze(resolved);
}

function configInvalid(field: string, message: string): StewardError {
  return new StewardError('config_invalid', `retry policy ${field}: ${message}`, { field });
}

export type RetryDecision = { kind: 'retry'; delayMs: number } | { kind: 'exhausted' };

export interface NextAttemptInput {
  /** Attempts completed so far, the one that just failed included (1 after the first failure). */
  attempts: number;
  policy: RetryPolicy;
  /** The provider's Retry-After in milliseconds (see parseRetryAfter), if it sent one. */
  retryAfterMs?: number | undefined;
  /** A uniform source in [0, 1), such as Math.random. */
  random: () => number;
}

/**
 * The upper bound of the wait after `attempts` failures: base · 2^(attempts−1), capped.
 * Past 2^1023 the power is Infinity and the cap still applies.
 */
export function backoffCeilingMs(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
}

/**
 * Retry or give up. Exhaustion comes first: a Retry-After never buys an attempt beyond
 * the tier's maximum. Otherwise the provider's Retry-After is used as given (it knows
 * when it will take the call again; adding jitter would only make us early or late),
 * up to MAX_RETRY_AFTER_MS. Without one, full jitter: a uniform wait in [0, ceiling),
 * which spreads a burst of failures out instead of retrying them in lockstep.
 */
export function nextAttempt({ attempts, policy, retryAfterMs, random }: NextAttemptInput): RetryDecision {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be an integer ≥ 1, got ${attempts}`);
  if (attempts >= policy.maxAttempts) return { kind: 'exhausted' };
  if (retryAfterMs !== undefined && retryAfterMs >= 0) {
    return { kind: 'retry', delayMs: Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) };
  }
  return { kind: 'retry', delayMs: Math.floor(random() * backoffCeilingMs(attempts, policy)) };
}

// RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds, delay-seconds = 1*DIGIT.
const DELAY_SECONDS = /^\d+$/;

/**
 * A Retry-After header value in milliseconds from `now`, or undefined when it says
 * nothing usable: absent, blank, not one of the RFC's forms (a sign, a fraction, an
 * ISO date), or a date already past. A past date is most often clock skew between the
 * provider and us, and tells us nothing about how long to wait, so the tier's backoff
 * applies instead. Dates in all three HTTP forms (IMF-fixdate, RFC 850, asctime) are
 * parsed by luxon, which also refuses a weekday that does not match its date.
 * Very large values are returned as they are (capped to a safe integer); nextAttempt
 * applies the 24 h limit.
 */
export function parseRetryAfter(headerValue: string | null | undefined, now: Date): number | undefined {
  const value = headerValue?.trim();
  if (!value) return undefined;
  if (DELAY_SECONDS.test(value)) return Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER);
  const date = DateTime.fromHTTP(value, { zone: 'utc' });
  if (!date.isValid) return undefined;
  const ms = date.toMillis() - now.getTime();
  return ms >= 0 ? ms : undefined;
}
