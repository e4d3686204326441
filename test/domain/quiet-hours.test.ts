import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Settings } from 'luxon';
import { StewardError } from '../../src/errors.ts';
import { evaluateQuietHours, formatWindow, isInWindow, type QuietHours } from '../../src/domain/quiet-hours.ts';

const w = (start: number, end: number): QuietHours => ({ start, end });

/** Expects `now` (UTC ISO) to be inside the window, which ends at `until` (UTC ISO). */
function quiet(window: QuietHours, zone: string, now: string, until: string): void {
  const decision = evaluateQuietHours(window, zone, new Date(now));
  assert.equal(decision.allowed, false, `${now} in ${zone} should be inside ${formatWindow(window)} (local ${decision.localTime})`);
  if (decision.allowed) return;
  assert.equal(decision.until.toISOString(), new Date(until).toISOString(), `${now} in ${zone}, ${formatWindow(window)}`);
  assert.deepEqual(decision.window, window);
}

/** Expects `now` (UTC ISO) to be outside the window. */
function open(window: QuietHours | null, zone: string, now: string): void {
  const decision = evaluateQuietHours(window, zone, new Date(now));
  assert.equal(decision.allowed, true, `${now} in ${zone} should be outside ${window ? formatWindow(window) : 'no window'} (local ${decision.localTime})`);
}

function throwsInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof StewardError, String(error));
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.field, field, error.message);
    return true;
  });
}

describe('quiet hours: no window', () => {
  it('null means no quiet hours, at any time', () => {
    for (const now of ['2025-01-01T00:00:00Z', '2025-03-09T07:00:00Z', '2025-06-15T23:59:59Z']) {
      assert.deepEqual(evaluateQuietHours(null, 'America/New_York', new Date(now)).allowed, true);
    }
  });

  it('reports the local time with its offset even so', () => {
    assert.deepEqual(evaluateQuietHours(null, 'Asia/Kolkata', new Date('2025-01-01T00:00:00Z')), {
      allowed: true,
      localTime: '2025-01-01T05:30:00+05:30',
    });
  });
});

describe('quiet hours: a window within one day (UTC, 09–17)', () => {
  const day = w(9, 17);
  it('one minute before the start: allowed', () => open(day, 'UTC', '2025-05-20T08:59:00Z'));
  it('at the start (inclusive): quiet until the end', () => quiet(day, 'UTC', '2025-05-20T09:00:00Z', '2025-05-20T17:00:00Z'));
  it('one minute after the start: quiet', () => quiet(day, 'UTC', '2025-05-20T09:01:00Z', '2025-05-20T17:00:00Z'));
  it('one minute before the end: quiet until the end', () => quiet(day, 'UTC', '2025-05-20T16:59:00Z', '2025-05-20T17:00:00Z'));
  it('the last millisecond: quiet', () => quiet(day, 'UTC', '2025-05-20T16:59:59.999Z', '2025-05-20T17:00:00Z'));
  it('at the end (exclusive): allowed', () => open(day, 'UTC', '2025-05-20T17:00:00Z'));
  it('one minute after the end: allowed', () => open(day, 'UTC', '2025-05-20T17:01:00Z'));
  it('midnight: allowed', () => open(day, 'UTC', '2025-05-20T00:00:00Z'));

  it('the blocked decision carries the window and the local time', () => {
    assert.deepEqual(evaluateQuietHours(day, 'UTC', new Date('2025-05-20T10:15:00Z')), {
      allowed: false,
      until: new Date('2025-05-20T17:00:00Z'),
      window: { start: 9, end: 17 },
      localTime: '2025-05-20T10:15:00+00:00',
    });
  });
});

describe('quiet hours: a window across midnight (UTC, 22–06)', () => {
  const night = w(22, 6);
  it('one minute before the start: allowed', () => open(night, 'UTC', '2025-05-20T21:59:00Z'));
  it('at the start: quiet until 06:00 the next morning', () => quiet(night, 'UTC', '2025-05-20T22:00:00Z', '2025-05-21T06:00:00Z'));
  it('one minute after the start: quiet', () => quiet(night, 'UTC', '2025-05-20T22:01:00Z', '2025-05-21T06:00:00Z'));
  it('just before midnight: until tomorrow 06:00', () => quiet(night, 'UTC', '2025-05-20T23:59:00Z', '2025-05-21T06:00:00Z'));
  it('at midnight: until today 06:00', () => quiet(night, 'UTC', '2025-05-21T00:00:00Z', '2025-05-21T06:00:00Z'));
  it('one minute before the end: quiet', () => quiet(night, 'UTC', '2025-05-21T05:59:00Z', '2025-05-21T06:00:00Z'));
  it('at the end: allowed', () => open(night, 'UTC', '2025-05-21T06:00:00Z'));
  it('one minute after the end: allowed', () => open(night, 'UTC', '2025-05-21T06:01:00Z'));
  it('midday: allowed', () => open(night, 'UTC', '2025-05-21T12:00:00Z'));
  it('across a month and a year end', () => {
    quiet(night, 'UTC', '2025-12-31T23:00:00Z', '2026-01-01T06:00:00Z');
    quiet(night, 'UTC', '2025-02-28T22:30:00Z', '2025-03-01T06:00:00Z');
    quiet(night, 'UTC', '2024-02-28T22:30:00Z', '2024-02-29T06:00:00Z'); // leap day
  });
});

describe('quiet hours: windows touching midnight, and the longest one', () => {
  it('23–00 ends at the next midnight', () => {
    open(w(23, 0), 'UTC', '2025-05-20T22:59:00Z');
    quiet(w(23, 0), 'UTC', '2025-05-20T23:00:00Z', '2025-05-21T00:00:00Z');
    open(w(23, 0), 'UTC', '2025-05-21T00:00:00Z');
  });

  it('00–01 starts at midnight', () => {
    open(w(0, 1), 'UTC', '2025-05-20T23:59:00Z');
    quiet(w(0, 1), 'UTC', '2025-05-21T00:00:00Z', '2025-05-21T01:00:00Z');
    open(w(0, 1), 'UTC', '2025-05-21T01:00:00Z');
  });

  it('01–00 is quiet 23 hours a day, open 00:00–00:59', () => {
    open(w(1, 0), 'UTC', '2025-05-21T00:30:00Z');
    quiet(w(1, 0), 'UTC', '2025-05-21T01:00:00Z', '2025-05-22T00:00:00Z');
    quiet(w(1, 0), 'UTC', '2025-05-21T23:59:00Z', '2025-05-22T00:00:00Z');
  });
});

describe('quiet hours: in the tenant time zone', () => {
  it('America/New_York in winter (UTC−5), 22–06', () => {
    open(w(22, 6), 'America/New_York', '2025-01-15T02:59:00Z'); // 21:59 EST
    quiet(w(22, 6), 'America/New_York', '2025-01-15T03:00:00Z', '2025-01-15T11:00:00Z'); // 22:00 EST → 06:00 EST
    quiet(w(22, 6), 'America/New_York', '2025-01-15T10:59:00Z', '2025-01-15T11:00:00Z');
    open(w(22, 6), 'America/New_York', '2025-01-15T11:00:00Z');
  });

  it('America/New_York in summer (UTC−4), 22–06', () => {
    quiet(w(22, 6), 'America/New_York', '2025-07-15T02:00:00Z', '2025-07-15T10:00:00Z'); // 22:00 EDT → 06:00 EDT
    open(w(22, 6), 'America/New_York', '2025-07-15T10:00:00Z');
  });

  it('Europe/Berlin in summer (UTC+2), 09–17', () => {
    open(w(9, 17), 'Europe/Berlin', '2025-07-01T06:59:00Z');
    quiet(w(9, 17), 'Europe/Berlin', '2025-07-01T07:00:00Z', '2025-07-01T15:00:00Z');
    open(w(9, 17), 'Europe/Berlin', '2025-07-01T15:00:00Z');
  });

  it('Asia/Kolkata (UTC+5:30), 22–07: the half-hour offset shifts both ends', () => {
    open(w(22, 7), 'Asia/Kolkata', '2025-01-15T16:29:00Z'); // 21:59 IST
    quiet(w(22, 7), 'Asia/Kolkata', '2025-01-15T16:30:00Z', '2025-01-16T01:30:00Z'); // 22:00 → 07:00 IST
    quiet(w(22, 7), 'Asia/Kolkata', '2025-01-16T01:29:00Z', '2025-01-16T01:30:00Z'); // 06:59 IST
    open(w(22, 7), 'Asia/Kolkata', '2025-01-16T01:30:00Z');
  });

  it('the same instant is quiet in one zone and not in another', () => {
    const instant = '2025-01-15T04:00:00Z'; // 23:00 in New York, 05:00 in Berlin, 09:30 in Kolkata, 04:00 UTC
    quiet(w(22, 6), 'America/New_York', instant, '2025-01-15T11:00:00Z');
    quiet(w(22, 6), 'Europe/Berlin', instant, '2025-01-15T05:00:00Z');
    open(w(22, 6), 'Asia/Kolkata', instant);
    quiet(w(22, 6), 'UTC', instant, '2025-01-15T06:00:00Z');
  });

  it('Australia/Lord_Howe, standard time (UTC+10:30) and summer time (UTC+11)', () => {
    quiet(w(22, 6), 'Australia/Lord_Howe', '2025-06-15T11:30:00Z', '2025-06-15T19:30:00Z');
    open(w(22, 6), 'Australia/Lord_Howe', '2025-06-15T11:29:00Z');
    quiet(w(22, 6), 'Australia/Lord_Howe', '2025-01-15T11:00:00Z', '2025-01-15T19:00:00Z');
    open(w(22, 6), 'Australia/Lord_Howe', '2025-01-15T10:59:00Z');
  });

  it('reports the local wall-clock time with the offset in force', () => {
    const d = evaluateQuietHours(w(22, 6), 'America/New_York', new Date('2025-01-15T03:30:00Z'));
    assert.equal(d.localTime, '2025-01-14T22:30:00-05:00');
    assert.equal(evaluateQuietHours(null, 'Australia/Lord_Howe', new Date('2025-01-15T03:30:00Z')).localTime, '2025-01-15T14:30:00+11:00');
  });

  it("does not depend on the process's or luxon's default zone", () => {
    const before = Settings.defaultZone;
    try {
      Settings.defaultZone = 'Pacific/Chatham';
      quiet(w(22, 6), 'America/New_York', '2025-01-15T03:00:00Z', '2025-01-15T11:00:00Z');
    } finally {
      Settings.defaultZone = before;
    }
  });
});

// America/New_York 2025: spring forward Sun 9 March, 02:00 EST → 03:00 EDT (07:00Z);
// fall back Sun 2 November, 02:00 EDT → 01:00 EST (06:00Z), so 01:00–01:59 happens twice.
describe('quiet hours: DST in New York', () => {
  const ny = 'America/New_York';

  it('spring forward, 01–03: the window is one real hour long', () => {
    open(w(1, 3), ny, '2025-03-09T05:59:00Z'); // 00:59 EST
    quiet(w(1, 3), ny, '2025-03-09T06:00:00Z', '2025-03-09T07:00:00Z'); // 01:00 EST → 03:00 EDT
    quiet(w(1, 3), ny, '2025-03-09T06:59:00Z', '2025-03-09T07:00:00Z'); // 01:59 EST
    open(w(1, 3), ny, '2025-03-09T07:00:00Z'); // 03:00 EDT
  });

  it('spring forward, an end hour in the gap (01–02): ends at the first instant after it, 03:00 EDT', () => {
    quiet(w(1, 2), ny, '2025-03-09T06:30:00Z', '2025-03-09T07:00:00Z');
    open(w(1, 2), ny, '2025-03-09T07:00:00Z');
  });

  it('spring forward, 22–02 across the night: ends at 03:00 EDT, four real hours after it began', () => {
    quiet(w(22, 2), ny, '2025-03-09T03:00:00Z', '2025-03-09T07:00:00Z'); // Sat 22:00 EST
    quiet(w(22, 2), ny, '2025-03-09T06:59:00Z', '2025-03-09T07:00:00Z'); // Sun 01:59 EST
    open(w(22, 2), ny, '2025-03-09T07:00:00Z');
  });

  it('spring forward, a start hour in the gap (02–04): starts at 03:00 EDT', () => {
    open(w(2, 4), ny, '2025-03-09T06:59:00Z'); // 01:59 EST
    quiet(w(2, 4), ny, '2025-03-09T07:00:00Z', '2025-03-09T08:00:00Z'); // 03:00 → 04:00 EDT
    open(w(2, 4), ny, '2025-03-09T08:00:00Z');
  });

  it('spring forward, 22–06: until 06:00 EDT, seven real hours after 22:00 EST', () => {
    quiet(w(22, 6), ny, '2025-03-09T03:00:00Z', '2025-03-09T10:00:00Z');
  });

  it('fall back, 22–02 across the night: until 02:00 EST, five real hours after 22:00 EDT', () => {
    quiet(w(22, 2), ny, '2025-11-02T02:00:00Z', '2025-11-02T07:00:00Z'); // Sat 22:00 EDT
    quiet(w(22, 2), ny, '2025-11-02T05:30:00Z', '2025-11-02T07:00:00Z'); // 01:30 EDT, first time
    quiet(w(22, 2), ny, '2025-11-02T06:30:00Z', '2025-11-02T07:00:00Z'); // 01:30 EST, second time
    open(w(22, 2), ny, '2025-11-02T07:00:00Z'); // 02:00 EST
  });

  it('fall back, an end hour that occurs twice (22–01): ends at its first occurrence, 01:00 EDT', () => {
    quiet(w(22, 1), ny, '2025-11-02T02:00:00Z', '2025-11-02T05:00:00Z');
    quiet(w(22, 1), ny, '2025-11-02T04:59:00Z', '2025-11-02T05:00:00Z'); // 00:59 EDT
    open(w(22, 1), ny, '2025-11-02T05:00:00Z'); // 01:00 EDT
    open(w(22, 1), ny, '2025-11-02T06:00:00Z'); // 01:00 EST: hour 1 again, still outside
  });

  it('fall back, a start hour that occurs twice (01–02): quiet through both, two real hours', () => {
    open(w(1, 2), ny, '2025-11-02T04:59:00Z'); // 00:59 EDT
    quiet(w(1, 2), ny, '2025-11-02T05:00:00Z', '2025-11-02T07:00:00Z'); // 01:00 EDT
    quiet(w(1, 2), ny, '2025-11-02T06:00:00Z', '2025-11-02T07:00:00Z'); // 01:00 EST
    open(w(1, 2), ny, '2025-11-02T07:00:00Z');
  });

  it('fall back, 00–01: until 01:00 EDT', () => {
    quiet(w(0, 1), ny, '2025-11-02T04:00:00Z', '2025-11-02T05:00:00Z');
  });
});

// Europe/Berlin 2025: spring forward Sun 30 March, 02:00 CET → 03:00 CEST (01:00Z);
// fall back Sun 26 October, 03:00 CEST → 02:00 CET (01:00Z), so 02:00–02:59 happens twice.
describe('quiet hours: DST in Berlin', () => {
  const berlin = 'Europe/Berlin';

  it('spring forward, 01–03: one real hour', () => {
    open(w(1, 3), berlin, '2025-03-29T23:59:00Z'); // 00:59 CET
    quiet(w(1, 3), berlin, '2025-03-30T00:00:00Z', '2025-03-30T01:00:00Z'); // 01:00 CET → 03:00 CEST
    quiet(w(1, 3), berlin, '2025-03-30T00:59:00Z', '2025-03-30T01:00:00Z');
    open(w(1, 3), berlin, '2025-03-30T01:00:00Z');
  });

  it('spring forward, 22–02 across the night: ends at 03:00 CEST', () => {
    quiet(w(22, 2), berlin, '2025-03-29T21:00:00Z', '2025-03-30T01:00:00Z'); // Sat 22:00 CET
    open(w(22, 2), berlin, '2025-03-30T01:00:00Z');
  });

  it('fall back, 22–02 across the night: ends at the first 02:00 (CEST)', () => {
    quiet(w(22, 2), berlin, '2025-10-25T20:00:00Z', '2025-10-26T00:00:00Z'); // Sat 22:00 CEST
    quiet(w(22, 2), berlin, '2025-10-25T23:59:00Z', '2025-10-26T00:00:00Z'); // 01:59 CEST
    open(w(22, 2), berlin, '2025-10-26T00:00:00Z'); // 02:00 CEST
    open(w(22, 2), berlin, '2025-10-26T01:00:00Z'); // 02:00 CET
  });

  it('fall back, 22–03: until 03:00 CET, six real hours', () => {
    quiet(w(22, 3), berlin, '2025-10-25T20:00:00Z', '2025-10-26T02:00:00Z');
    quiet(w(22, 3), berlin, '2025-10-26T00:30:00Z', '2025-10-26T02:00:00Z'); // 02:30 CEST
    quiet(w(22, 3), berlin, '2025-10-26T01:30:00Z', '2025-10-26T02:00:00Z'); // 02:30 CET
    open(w(22, 3), berlin, '2025-10-26T02:00:00Z');
  });

  it('fall back, 02–03: quiet through both 02:00 hours', () => {
    open(w(2, 3), berlin, '2025-10-25T23:59:00Z');
    quiet(w(2, 3), berlin, '2025-10-26T00:00:00Z', '2025-10-26T02:00:00Z');
    quiet(w(2, 3), berlin, '2025-10-26T01:59:00Z', '2025-10-26T02:00:00Z');
    open(w(2, 3), berlin, '2025-10-26T02:00:00Z');
  });
});

// Australia/Lord_Howe moves its clocks by 30 minutes. 2025: summer time ends Sun 6 April,
// 02:00 (+11) → 01:30 (+10:30) at 15:00Z; it begins Sun 5 October, 02:00 (+10:30) →
// 02:30 (+11) at 15:30Z (the 4th in UTC).
describe('quiet hours: DST on Lord Howe Island (30 minutes)', () => {
  const lh = 'Australia/Lord_Howe';

  it('spring forward, an end hour in the half-hour gap (01–02): ends at 02:30, the first instant after it', () => {
    quiet(w(1, 2), lh, '2025-10-04T15:00:00Z', '2025-10-04T15:30:00Z'); // 01:30 +10:30
    quiet(w(1, 2), lh, '2025-10-04T15:29:00Z', '2025-10-04T15:30:00Z'); // 01:59 +10:30
    open(w(1, 2), lh, '2025-10-04T15:30:00Z'); // 02:30 +11
  });

  it('spring forward, 00–03 across the gap: two and a half real hours', () => {
    quiet(w(0, 3), lh, '2025-10-04T13:30:00Z', '2025-10-04T16:00:00Z'); // 00:00 +10:30 → 03:00 +11
  });

  it('fall back, 22–02: until 02:00 standard time, through the repeated half hour', () => {
    quiet(w(22, 2), lh, '2025-04-05T11:00:00Z', '2025-04-05T15:30:00Z'); // Sat 22:00 +11
    quiet(w(22, 2), lh, '2025-04-05T14:45:00Z', '2025-04-05T15:30:00Z'); // 01:45 +11
    quiet(w(22, 2), lh, '2025-04-05T15:15:00Z', '2025-04-05T15:30:00Z'); // 01:45 +10:30
    open(w(22, 2), lh, '2025-04-05T15:30:00Z'); // 02:00 +10:30
  });
});

describe('quiet hours: invalid input', () => {
  it('an unknown time zone is invalid_input naming timeZone, with or without a window', () => {
    for (const zone of ['Mars/Olympus_Mons', '', 'UTC+5', 'EST +5', 'America/New York']) {
      throwsInvalid(() => evaluateQuietHours(w(22, 6), zone, new Date()), 'timeZone');
      throwsInvalid(() => evaluateQuietHours(null, zone, new Date()), 'timeZone');
    }
  });

  it('a window that is not two different whole hours 0–23 is invalid_input naming the field', () => {
    const now = new Date('2025-05-20T12:00:00Z');
    throwsInvalid(() => evaluateQuietHours(w(24, 6), 'UTC', now), 'quiet_hours.start');
    throwsInvalid(() => evaluateQuietHours(w(-1, 6), 'UTC', now), 'quiet_hours.start');
    throwsInvalid(() => evaluateQuietHours(w(22.5, 6), 'UTC', now), 'quiet_hours.start');
    throwsInvalid(() => evaluateQuietHours(w(22, 24), 'UTC', now), 'quiet_hours.end');
    throwsInvalid(() => evaluateQuietHours(w(22, Number.NaN), 'UTC', now), 'quiet_hours.end');
    throwsInvalid(() => evaluateQuietHours({ start: '22', end: 6 } as unknown as QuietHours, 'UTC', now), 'quiet_hours.start');
    throwsInvalid(() => evaluateQuietHours(w(5, 5), 'UTC', now), 'quiet_hours.end');
  });
});

describe('isInWindow and formatWindow', () => {
  it('every hour of a plain and of a wrapping window', () => {
    const hours = Array.from({ length: 24 }, (_, h) => h);
    assert.deepEqual(hours.filter((h) => isInWindow(h, w(9, 17))), [9, 10, 11, 12, 13, 14, 15, 16]);
    assert.deepEqual(hours.filter((h) => isInWindow(h, w(22, 6))), [0, 1, 2, 3, 4, 5, 22, 23]);
    assert.deepEqual(hours.filter((h) => isInWindow(h, w(23, 0))), [23]);
    assert.deepEqual(hours.filter((h) => isInWindow(h, w(0, 23))).length, 23);
  });

  it('formats with two-digit hours', () => {
    assert.equal(formatWindow(w(22, 6)), '22:00–06:00');
    assert.equal(formatWindow(w(0, 9)), '00:00–09:00');
  });
});
