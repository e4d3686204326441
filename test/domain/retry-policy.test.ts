import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StewardError } from '../../src/errors.ts';
import {
  DEFAULT_RETRY_POLICIES,
  MAX_RETRY_AFTER_MS,
  backoffCeilingMs,
  nextAttempt,
  parseRetryAfter,
  resolveRetryPolicies,
  type RetryPolicy,
} from '../../src/domain/retry-policy.ts';

const HOUR = 3_600_000;
const ZERO = () => 0;
const ALMOST_ONE = () => 0.999999;
const NOW = new Date('2025-06-01T12:00:00Z');

/** Asserts a config_invalid StewardError naming `field`. */
function throwsConfigInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof StewardError, String(error));
    assert.equal(error.code, 'config_invalid', error.message);
    assert.equal(error.field, field, error.message);
    return true;
  });
}

describe('default retry policies', () => {
  it('are the documented numbers', () => {
    assert.deepEqual(DEFAULT_RETRY_POLICIES, {
      low: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60000 },
      medium: { maxAttempts: 3, baseDelayMs: 2000, maxDelayMs: 300000 },
      high: { maxAttempts: 2, baseDelayMs: 5000, maxDelayMs: 600000 },
    });
  });

  it('riskier tiers retry fewer times, and later', () => {
    const { low, medium, high } = DEFAULT_RETRY_POLICIES;
    assert.ok(low.maxAttempts > medium.maxAttempts && medium.maxAttempts > high.maxAttempts);
    assert.ok(low.baseDelayMs < medium.baseDelayMs && medium.baseDelayMs < high.baseDelayMs);
    assert.ok(low.maxDelayMs < medium.maxDelayMs && medium.maxDelayMs < high.maxDelayMs);
  });

  it('cannot be changed at run time', () => {
    assert.ok(Object.isFrozen(DEFAULT_RETRY_POLICIES) && Object.isFrozen(DEFAULT_RETRY_POLICIES.low));
    assert.throws(() => {
      (DEFAULT_RETRY_POLICIES.low as { maxAttempts: number }).maxAttempts = 99;
    }, TypeError);
  });
});

describe('nextAttempt: the bounds of every attempt per tier', () => {
  // attempts → [ceiling, delay with random 0, delay with random 0.999999]
  const expected: Record<string, Array<[number, number, number, number]>> = {
    low: [
      [1, 1000, 0, 999],
      [2, 2000, 0, 1999],
      [3, 4000, 0, 3999],
      [4, 8000, 0, 7999],
    ],
    medium: [
      [1, 2000, 0, 1999],
      [2, 4000, 0, 3999],
    ],
    high: [[1, 5000, 0, 4999]],
  };
  for (const [tier, rows] of Object.entries(expected)) {
    const policy = DEFAULT_RETRY_POLICIES[tier as keyof typeof DEFAULT_RETRY_POLICIES];
    for (const [attempts, ceiling, low, high] of rows) {
      it(`${tier}, after attempt ${attempts}: a delay in [0, ${ceiling})`, () => {
        assert.equal(backoffCeilingMs(attempts, policy), ceiling);
        assert.deepEqual(nextAttempt({ attempts, policy, random: ZERO }), { kind: 'retry', delayMs: low });
        assert.deepEqual(nextAttempt({ attempts, policy, random: ALMOST_ONE }), { kind: 'retry', delayMs: high });
      });
    }
    it(`${tier}: exhausted at exactly maxAttempts (${policy.maxAttempts}) and beyond, not one before`, () => {
      assert.equal(nextAttempt({ attempts: policy.maxAttempts - 1, policy, random: ZERO }).kind, 'retry');
      assert.deepEqual(nextAttempt({ attempts: policy.maxAttempts, policy, random: ZERO }), { kind: 'exhausted' });
      assert.deepEqual(nextAttempt({ attempts: policy.maxAttempts + 1, policy, random: ALMOST_ONE }), { kind: 'exhausted' });
    });
  }

  it('full jitter: the delay is random() times the ceiling, floored', () => {
    const policy = DEFAULT_RETRY_POLICIES.low;
    assert.deepEqual(nextAttempt({ attempts: 3, policy, random: () => 0.5 }), { kind: 'retry', delayMs: 2000 });
    assert.deepEqual(nextAttempt({ attempts: 3, policy, random: () => 0.12345 }), { kind: 'retry', delayMs: 493 });
  });

  it('asks the random source once per retry, and not at all when exhausted', () => {
    let calls = 0;
    const random = () => (calls++, 0.5);
    nextAttempt({ attempts: 1, policy: DEFAULT_RETRY_POLICIES.medium, random });
    assert.equal(calls, 1);
    nextAttempt({ attempts: 3, policy: DEFAULT_RETRY_POLICIES.medium, random });
    assert.equal(calls, 1);
  });

  it('maxAttempts 1 means no retry at all', () => {
    assert.deepEqual(nextAttempt({ attempts: 1, policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, random: ZERO }), { kind: 'exhausted' });
  });

  it('refuses an attempt count below 1 or not whole (a caller bug)', () => {
    for (const attempts of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => nextAttempt({ attempts, policy: DEFAULT_RETRY_POLICIES.low, random: ZERO }), RangeError, String(attempts));
    }
  });
});

describe('nextAttempt: the cap', () => {
  const policy: RetryPolicy = { maxAttempts: 2000, baseDelayMs: 1000, maxDelayMs: 60_000 };

  it('the ceiling doubles until it reaches maxDelayMs, then stays there', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCeilingMs(n, policy)),
      [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000],
    );
  });

  it('holds even where 2^n overflows to Infinity', () => {
    assert.equal(backoffCeilingMs(1500, policy), 60_000);
    assert.deepEqual(nextAttempt({ attempts: 1500, policy, random: ALMOST_ONE }), { kind: 'retry', delayMs: 59_999 });
  });

  it('a base equal to the cap gives a constant ceiling', () => {
    const flat: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 500 };
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffCeilingMs(n, flat)), [500, 500, 500, 500]);
  });

  it('the default tiers reach their caps only in later attempts', () => {
    assert.equal(backoffCeilingMs(7, DEFAULT_RETRY_POLICIES.low), 60_000); // 64 s capped
    assert.equal(backoffCeilingMs(6, DEFAULT_RETRY_POLICIES.low), 32_000);
    assert.equal(backoffCeilingMs(9, DEFAULT_RETRY_POLICIES.medium), 300_000); // 512 s capped
    assert.equal(backoffCeilingMs(8, DEFAULT_RETRY_POLICIES.high), 600_000); // 640 s capped
  });
});

describe('nextAttempt: Retry-After', () => {
  const policy = DEFAULT_RETRY_POLICIES.medium;

  it('wins over the computed delay, used exactly (no jitter)', () => {
    for (const random of [ZERO, ALMOST_ONE]) {
      assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: 30_000, random }), { kind: 'retry', delayMs: 30_000 });
    }
  });

  it('wins even when longer than the tier cap, or zero', () => {
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: 2 * HOUR, random: ZERO }), { kind: 'retry', delayMs: 2 * HOUR });
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: 0, random: ALMOST_ONE }), { kind: 'retry', delayMs: 0 });
  });

  it('is clamped to 24 h', () => {
    assert.equal(MAX_RETRY_AFTER_MS, 24 * HOUR);
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: 24 * HOUR, random: ZERO }), { kind: 'retry', delayMs: 24 * HOUR });
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: 24 * HOUR + 1, random: ZERO }), { kind: 'retry', delayMs: 24 * HOUR });
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: Number.MAX_SAFE_INTEGER, random: ZERO }), { kind: 'retry', delayMs: 24 * HOUR });
    assert.deepEqual(nextAttempt({ attempts: 1, policy, retryAfterMs: Infinity, random: ZERO }), { kind: 'retry', delayMs: 24 * HOUR });
  });

  it('never buys an attempt beyond maxAttempts', () => {
    assert.deepEqual(nextAttempt({ attempts: 3, policy, retryAfterMs: 1000, random: ZERO }), { kind: 'exhausted' });
    assert.deepEqual(nextAttempt({ attempts: 2, policy: DEFAULT_RETRY_POLICIES.high, retryAfterMs: 0, random: ZERO }), { kind: 'exhausted' });
  });

  it('undefined, negative or NaN falls back to the backoff', () => {
    for (const retryAfterMs of [undefined, -1, Number.NaN]) {
      assert.deepEqual(nextAttempt({ attempts: 2, policy, retryAfterMs, random: () => 0.5 }), { kind: 'retry', delayMs: 2000 }, String(retryAfterMs));
    }
  });
});

describe('parseRetryAfter', () => {
  it('delay-seconds', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('1', NOW), 1000);
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(' 30 ', NOW), 30_000);
    assert.equal(parseRetryAfter('007', NOW), 7000);
  });

  it('delay-seconds beyond 24 h are returned as given (nextAttempt clamps), huge ones capped to a safe integer', () => {
    assert.equal(parseRetryAfter('172800', NOW), 48 * HOUR);
    assert.equal(parseRetryAfter('9'.repeat(400), NOW), Number.MAX_SAFE_INTEGER);
  });

  it('HTTP-date in its three forms: IMF-fixdate, RFC 850 and asctime', () => {
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:02:00 GMT', NOW), 120_000);
    assert.equal(parseRetryAfter('Sunday, 01-Jun-25 12:02:00 GMT', NOW), 120_000);
    assert.equal(parseRetryAfter('Sun Jun  1 12:02:00 2025', NOW), 120_000);
  });

  it('an HTTP-date is absolute: the answer depends on now', () => {
    assert.equal(parseRetryAfter('Mon, 02 Jun 2025 12:00:00 GMT', NOW), 24 * HOUR);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:00:00 GMT', NOW), 0);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:00:00 GMT', new Date('2025-06-01T11:59:59.500Z')), 500);
  });

  it('an HTTP-date already past → undefined', () => {
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 11:59:59 GMT', NOW), undefined);
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), undefined);
  });

  it('garbage, signs, fractions and other date formats → undefined', () => {
    const garbage = [
      undefined,
      null,
      '',
      '   ',
      '-5',
      '+5',
      '1.5',
      '1e3',
      '0x10',
      '5 seconds',
      'soon',
      'NaN',
      'Infinity',
      '2025-06-01T12:02:00Z', // ISO 8601 is not an HTTP-date
      'Sun, 01 Jun 2025 12:02:00 +0000', // numeric zone: not IMF-fixdate
      'Mon, 01 Jun 2025 12:02:00 GMT', // 1 June 2025 is a Sunday
      'Sun, 32 Jun 2025 12:02:00 GMT',
      'Sun, 01 Jun 2025 25:02:00 GMT',
    ];
    for (const value of garbage) assert.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value));
  });

  it('feeds nextAttempt', () => {
    const retryAfterMs = parseRetryAfter('Sun, 01 Jun 2025 12:00:42 GMT', NOW);
    assert.deepEqual(nextAttempt({ attempts: 1, policy: DEFAULT_RETRY_POLICIES.low, retryAfterMs, random: ZERO }), { kind: 'retry', delayMs: 42_000 });
  });
});

describe('resolveRetryPolicies', () => {
  it('no overrides: the defaults', () => {
    assert.deepEqual(resolveRetryPolicies(), DEFAULT_RETRY_POLICIES);
    assert.deepEqual(resolveRetryPolicies({}), DEFAULT_RETRY_POLICIES);
    assert.deepEqual(resolveRetryPolicies({ low: {} }), DEFAULT_RETRY_POLICIES);
  });

  it('overrides per tier and per field; the rest keeps its defaults', () => {
    const policies = resolveRetryPolicies({ high: { maxAttempts: 4 }, low: { baseDelayMs: 250, maxDelayMs: 10_000 } });
    assert.deepEqual(policies, {
      low: { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000 },
      medium: DEFAULT_RETRY_POLICIES.medium,
      high: { maxAttempts: 4, baseDelayMs: 5000, maxDelayMs: 600000 },
    });
    assert.ok(Object.isFrozen(policies) && Object.isFrozen(policies.high));
    assert.deepEqual(DEFAULT_RETRY_POLICIES.high.maxAttempts, 2, 'the defaults are untouched');
  });

  it('base equal to the cap is fine', () => {
    assert.equal(resolveRetryPolicies({ medium: { baseDelayMs: 300_000 } }).medium.baseDelayMs, 300_000);
  });

  it('a field that is not a positive integer is config_invalid naming it', () => {
    throwsConfigInvalid(() => resolveRetryPolicies({ high: { maxAttempts: 0 } }), 'high.maxAttempts');
    throwsConfigInvalid(() => resolveRetryPolicies({ high: { maxAttempts: -1 } }), 'high.maxAttempts');
    throwsConfigInvalid(() => resolveRetryPolicies({ low: { baseDelayMs: 1.5 } }), 'low.baseDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ medium: { maxDelayMs: '1000' } }), 'medium.maxDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ medium: { maxDelayMs: Number.NaN } }), 'medium.maxDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ medium: { maxDelayMs: Infinity } }), 'medium.maxDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ low: { maxAttempts: null } }), 'low.maxAttempts');
  });

  it('a base above the cap is config_invalid naming the base, also when one side is a default', () => {
    throwsConfigInvalid(() => resolveRetryPolicies({ low: { baseDelayMs: 2000, maxDelayMs: 1000 } }), 'low.baseDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ high: { baseDelayMs: 600_001 } }), 'high.baseDelayMs');
    throwsConfigInvalid(() => resolveRetryPolicies({ medium: { maxDelayMs: 1999 } }), 'medium.baseDelayMs');
  });

  it('unknown tiers and fields are config_invalid naming them', () => {
    throwsConfigInvalid(() => resolveRetryPolicies({ critical: { maxAttempts: 1 } }), 'critical');
    throwsConfigInvalid(() => resolveRetryPolicies({ high: { maxAtempts: 1 } }), 'high.maxAtempts');
  });

  it('a value that is not an object is config_invalid', () => {
    throwsConfigInvalid(() => resolveRetryPolicies('fast'), 'retryPolicies');
    throwsConfigInvalid(() => resolveRetryPolicies(null), 'retryPolicies');
    throwsConfigInvalid(() => resolveRetryPolicies({ low: 3 }), 'low');
  });

  it('the message names the field too', () => {
    assert.throws(() => resolveRetryPolicies({ high: { maxAttempts: 0 } }), /high\.maxAttempts/);
  });
});
