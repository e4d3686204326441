import { Cron } from 'croner';
import { StewardError } from '../errors.ts';

// A job's schedule, in the form both runners read alike: a 5-field cron expression
// (UTC) in the subset pg_cron's Vixie-cron parser and croner agree on, or `N seconds`
// (pg_cron 1.5+ only) with N dividing a minute. db/migrations/009_scheduler.sql checks
// the same rules and computes the same ticks for missed-tick accounting.

export type Schedule =
  | { readonly kind: 'cron'; readonly text: string }
  | { readonly kind: 'interval'; readonly text: string; readonly seconds: number };

interface CronField {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', lo: 0, hi: 59 },
  { name: 'hour', lo: 0, hi: 23 },
  { name: 'day-of-month', lo: 1, hi: 31 },
  { name: 'month', lo: 1, hi: 12 },
  { name: 'day-of-week', lo: 0, hi: 7 },
];

const INTERVAL = /^([1-9]\d?) seconds$/;
const DIVISORS_OF_60 = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
// `*`, `n`, `a-b`, and `*` or `a-b` with `/step`: Vixie cron's grammar (`n/step` is not in it).
const ITEM = /^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/;

function invalid(text: string, message: string, cronField?: string): StewardError {
  return new StewardError('invalid_input', `schedule "${text}": ${message}`, {
    field: 'schedule',
    ...(cronField ? { details: { cron_field: cronField } } : {}),
  });
}

function checkField(text: string, field: CronField, value: string): void {
  for (const item of value.split(',')) {
    const m = ITEM.exec(item);
    if (!m || (m[4] !== undefined && m[1] === undefined && m[3] === undefined)) {
      throw invalid(text, `the ${field.name} field "${value}" is not valid: use *, n, a-b, */step or a-b/step, separated by commas ` +
        '(names such as MON or JAN and the modifiers L, W, # are not supported)', field.name);
    }
    const a = m[1] ? field.lo : Number(m[2]);
    const b = m[1] ? field.hi : Number(m[3] ?? m[2]);
    if (a < field.lo || b > field.hi) throw invalid(text, `the ${field.name} field "${value}" is out of range ${field.lo}–${field.hi}`, field.name);
    if (a > b) throw invalid(text, `the ${field.name} field "${value}" has a range that runs backwards`, field.name);
    if (m[4] !== undefined && Number(m[4]) < 1) throw invalid(text, `the ${field.name} field "${value}" has a step of 0`, field.name);
  }
}

/** Parses and validates a schedule; a bad one is `invalid_input` on field `schedule`, naming the cron field. */
export function parseSchedule(input: string): Schedule {
  const text = input.trim().replace(/\s+/g, ' ');
  const interval = INTERVAL.exec(text);
  if (interval) {
    const seconds = Number(interval[1]);
    if (!DIVISORS_OF_60.includes(seconds)) {
      throw invalid(text, `an interval must divide a minute: ${DIVISORS_OF_60.join(', ')} seconds`);
    }
    return { kind: 'interval', text, seconds };
  }
  const fields = text === '' ? [] : text.split(' ');
  if (fields.length !== CRON_FIELDS.length) {
    throw invalid(text, `expected 5 cron fields (minute hour day-of-month month day-of-week, in UTC) or "N seconds"; got ${fields.length} field(s)`);
  }
  CRON_FIELDS.forEach((field, i) => checkField(text, field, fields[i]!));
  const [, , dom, , dow] = fields as [string, string, string, string, string];
  // Vixie cron (pg_cron) ANDs the day fields when one starts with `*`; croner only when it is exactly `*`.
  const starStep = (v: string): boolean => v.startsWith('*') && v !== '*';
  if ((starStep(dom) && dow !== '*') || (starStep(dow) && dom !== '*')) {
    throw invalid(text, 'with both day fields restricted, neither may be */step (pg_cron and croner read that combination differently); list the days instead', starStep(dom) ? 'day-of-month' : 'day-of-week');
  }
  // croner has the last word on what the in-process runner can run.
  try {
    croner({ kind: 'cron', text });
  } catch (error) {
    throw invalid(text, error instanceof Error ? error.message : String(error));
  }
  return { kind: 'cron', text };
}

/** A croner instance that only computes ticks (no function, so no timer of its own), in UTC. */
function croner(schedule: Schedule): Cron {
  return schedule.kind === 'cron'
    ? new Cron(schedule.text, { timezone: 'UTC', mode: '5-part', paused: true })
    : new Cron(`*/${schedule.seconds} * * * * *`, { timezone: 'UTC', mode: '6-part', paused: true });
}

/** Computes a schedule's ticks; keep one per schedule (croner parses once). */
export class TickCalculator {
  readonly schedule: Schedule;
  readonly #cron: Cron;

  constructor(schedule: Schedule | string) {
    this.schedule = typeof schedule === 'string' ? parseSchedule(schedule) : schedule;
    this.#cron = croner(this.schedule);
  }

  /** The first tick strictly after `after`. */
  next(after: Date): Date | null {
    let best = this.#cron.nextRun(after);
    if (!best || this.schedule.kind === 'interval') return best;
    // croner 11.0.0 skips the first days of a month after trying a day the month before
    // lacks ("0 0 1,31 * *" from Feb 15 gives Mar 31, not Mar 1; test/scheduler/
    // schedule-sql.test.ts found it). Searching again from the last second of each month
    // crossed finds those days; a search that starts on a month's first day is not affected.
    for (let start = firstOfNextMonth(after); start <= best; start = firstOfNextMonth(start)) {
      const candidate = this.#cron.nextRun(new Date(start.getTime() - 1000));
      if (candidate && candidate < best) best = candidate;
    }
    return best;
  }

  /** Every tick strictly between `after` and `before` (at most `max`). */
  between(after: Date, before: Date, max = 10_000): Date[] {
    const ticks: Date[] = [];
    for (let t = this.next(after); t && t < before && ticks.length < max; t = this.next(t)) ticks.push(t);
    return ticks;
  }
}

function firstOfNextMonth(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}
