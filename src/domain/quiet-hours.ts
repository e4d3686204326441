// Quiet hours: whole local hours [start, end) in the tenant's IANA time zone, during
// which nothing runs. Zone arithmetic is luxon's (the IANA database via Intl); the only
// rules decided here are what "the end of the window" means on the nights the clocks
// change.
import { DateTime, IANAZone } from 'luxon';
import { StewardError } from '../errors.ts';
import type { QuietHours } from '../services/guardrail-service.ts';

export type { QuietHours };

export type QuietHoursDecision =
  /** `localTime` is reported either way, for the guardrail check's `currentTime`. */
  | { allowed: true; localTime: string }
  /** `until`: the instant the window ends, when the envelope may run. */
  | { allowed: false; until: Date; window: QuietHours; localTime: string };

/**
 * Whether `now` lies outside the quiet window, read on the wall clock of `timeZone`.
 * `window` null = no quiet hours. A window wraps midnight when start > end (22–6 is
 * 22:00 to 06:00 the next morning); start is inclusive, end exclusive.
 *
 * `until` is the next local `end:00` after now, on the first local date that has one
 * after now. Where the clocks change at that hour:
 * - the hour does not exist (spring forward, e.g. 02:00 in New York): the window ends at
 *   the first instant after the gap (03:00 new time), which is also the first instant
 *   whose local hour is outside the window;
 * - the hour occurs twice (fall back, e.g. 01:00 in New York): the first occurrence,
 *   the earlier instant. From it on the local hour is `end`, outside the window, so
 *   waiting for the second occurrence would keep the tenant quiet an hour longer than
 *   its own clock says.
 *
 * An unknown zone is `invalid_input` (field `timeZone`), and so is a window that is not
 * two different whole hours 0–23 (the original system silently allowed bad config).
 */
export function evaluateQuietHours(window: QuietHours | null, timeZone: string, now: Date): QuietHoursDecision {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new StewardError('invalid_input', `timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone`, { field: 'timeZone' });
  const local = DateTime.fromJSDate(now, { zone });
  const localTime = local.toISO({ suppressMilliseconds: true })!;
  if (window === null) return { allowed: true, localTime };
  checkWindow(window);
  if (!isInWindow(local.hour, window)) return { allowed: true, localTime };
  return { allowed: false, until: windowEnd(local, window.end).toJSDate(), window: { start: window.start, end: window.end }, localTime };
}

/** Whether a local hour (0–23) falls in [start, end), wrapping midnight when start > end. */
export function isInWindow(hour: number, { start, end }: QuietHours): boolean {
  return start < end ? hour >= start && hour < end : hour >= start || hour < end;
}

/** `HH:00–HH:00`, for messages. */
export function formatWindow({ start, end }: QuietHours): string {
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return `${hh(start)}–${hh(end)}`;
}

function checkWindow(window: QuietHours): void {
  for (const field of ['start', 'end'] as const) {
    const h = window[field];
    if (!Number.isInteger(h) || h < 0 || h > 23) {
      throw new StewardError('invalid_input', `quiet_hours.${field}: must be a whole hour 0–23, got ${String(h)}`, { field: `quiet_hours.${field}` });
    }
  }
  if (window.start === window.end) {
    throw new StewardError('invalid_input', 'quiet_hours.end: start and end must differ (null means no quiet hours)', { field: 'quiet_hours.end' });
  }
}

/** The first local `hour:00` strictly after `local`, on this local date or the next. */
function windowEnd(local: DateTime, hour: number): DateTime {
  // Calendar dates are stepped in UTC, where every day has 24 hours; only the final
  // wall-clock time is placed in the zone.
  const today = DateTime.fromObject({ year: local.year, month: local.month, day: local.day }, { zone: 'utc' });
  for (const date of [today, today.plus({ days: 1 })]) {
    const end = atLocalHour(date, hour, local.zone);
    if (end > local) return end;
  }
  // Unreachable: inside a window, its end comes within the next 24 local hours.
  throw new Error(`no end of quiet hours after ${local.toISO()}`);
}

/**
 * `hour:00` on `date` in `zone`. luxon moves a time in a gap forward by the gap's length
 * (02:00 → 03:00 in New York, 02:00 → 02:30 on Lord Howe), which is the first instant
 * after it; of a time that occurs twice, it reports both, and we take the earlier.
 */
function atLocalHour(date: DateTime, hour: number, zone: DateTime['zone']): DateTime {
  const wall = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour }, { zone });
  return wall.getPossibleOffsets().reduce((earliest, dt) => (dt < earliest ? dt : earliest), wall);
}
