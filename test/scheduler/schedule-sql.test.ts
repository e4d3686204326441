import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TickCalculator, parseSchedule } from '../../src/scheduler/schedule.ts';
import { forEachEngine } from '../support/engines.ts';

// The SQL of 009_scheduler reads schedules the way croner (the in-process runner) does:
// the same accepted set, the same ticks. Missed-tick counts and pg_cron's tick depend on it.

const FIXED = [
  '* * * * *', '*/7 * * * *', '0 * * * *', '30 3 * * *', '15 4 * * *', '*/30 * * * *', '0,20,40 9-17 * * 1-5',
  '0 0 13 * 5', '0 12 * * 0', '0 12 * * 7', '5 4 1,15 * *', '0 0 29 2 *', '0 0 31 * *', '10-50/20 1-23/2 * 3-11/4 *',
  '0 6 1-7 * 1', '59 23 * 12 6-7',
];

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomField(next: () => number, lo: number, hi: number): string {
  const pick = (): number => lo + Math.floor(next() * (hi - lo + 1));
  const item = (): string => {
    const kind = Math.floor(next() * 5);
    if (kind === 0) return '*';
    if (kind === 1) return `*/${1 + Math.floor(next() * 12)}`;
    if (kind === 2) return String(pick());
    const [a, b] = [pick(), pick()].sort((x, y) => x - y) as [number, number];
    return kind === 3 ? `${a}-${b}` : `${a}-${b}/${1 + Math.floor(next() * 5)}`;
  };
  return Array.from({ length: 1 + Math.floor(next() * 2) }, item).join(',');
}

function randomExpressions(count: number): string[] {
  const next = random(6);
  const out: string[] = [];
  while (out.length < count) {
    const text = [randomField(next, 0, 59), randomField(next, 0, 23), randomField(next, 1, 31), randomField(next, 1, 12), randomField(next, 0, 7)].join(' ');
    try {
      parseSchedule(text);
      out.push(text);
    } catch {
      // an ambiguous day combination: not a schedule either runner accepts
    }
  }
  return out;
}

forEachEngine('schedules in SQL', (db) => {
  const q = async <R>(sql: string, params: unknown[]): Promise<R[]> => (await db().owner.transaction((tx) => tx.query<R>(sql, params))).rows;

  it('accepts and refuses what parseSchedule does', async () => {
    const samples = [...FIXED, '61 * * * *', '* * * *', '5/15 * * * *', 'MON * * * *', '* * */2 * 1', '0 0 1 * */2', '0 0 * * */2',
      '*/0 * * * *', '0 20-10 * * *', '30 seconds', '7 seconds', '60 seconds', '1 seconds', '', '@hourly', '* * * * * *'];
    for (const text of samples) {
      let ts = true;
      try {
        parseSchedule(text);
      } catch {
        ts = false;
      }
      const [row] = await q<{ ok: boolean }>('select steward.schedule_is_valid($1) as ok', [text]);
      assert.equal(row!.ok, ts, `"${text}"`);
    }
  });

  it('computes the same ticks as croner (fixed and 60 random expressions, over 40 days across a leap day)', async () => {
    const after = new Date('2028-02-10T22:17:00Z');
    const before = new Date('2028-03-21T01:00:00Z');
    // The first 1000 ticks of each: dense expressions stop early, sparse ones cross the months.
    for (const text of [...FIXED, ...randomExpressions(60)]) {
      const expected = new TickCalculator(text).between(after, before, 1000).map((d) => d.toISOString());
      const rows = await q<{ ticks: Date[] | null }>(
        'select array_agg(t order by t) as ticks from (select t from steward.cron_ticks($1, $2, $3) t limit 1000) x', [text, after, before]);
      assert.deepEqual((rows[0]!.ticks ?? []).map((d) => d.toISOString()), expected, `"${text}"`);
    }
  });

  it('counts a gap and finds the latest tick, for cron expressions and intervals', async () => {
    const [hourly] = await q<{ ticks: number; first_tick: Date; last_tick: Date }>(
      'select * from steward.schedule_gap($1, $2, $3)', ['0 * * * *', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z')]);
    assert.deepEqual(hourly, { ticks: 23, first_tick: new Date('2026-01-01T01:00:00Z'), last_tick: new Date('2026-01-01T23:00:00Z') });
    const [every5s] = await q<{ ticks: number; first_tick: Date; last_tick: Date }>(
      'select * from steward.schedule_gap($1, $2, $3)', ['5 seconds', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:01:00.5Z')]);
    assert.deepEqual(every5s, { ticks: 12, first_tick: new Date('2026-01-01T00:00:05Z'), last_tick: new Date('2026-01-01T00:01:00Z') });
    const [none] = await q<{ ticks: number }>('select * from steward.schedule_gap($1, $2, $3)', ['30 3 * * *', new Date('2026-01-01T03:30:00Z'), new Date('2026-01-02T03:30:00Z')]);
    assert.equal(none!.ticks, 0);
    const [latest] = await q<{ cron: Date; interval: Date }>(
      'select steward.schedule_latest_tick($1, $3) as cron, steward.schedule_latest_tick($2, $3) as interval',
      ['*/5 * * * *', '10 seconds', new Date('2026-01-01T00:07:03.2Z')]);
    assert.deepEqual(latest, { cron: new Date('2026-01-01T00:05:00Z'), interval: new Date('2026-01-01T00:07:00Z') });
  });
});
