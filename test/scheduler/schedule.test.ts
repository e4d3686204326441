import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StewardError } from '../../src/errors.ts';
import { TickCalculator, parseSchedule } from '../../src/scheduler/schedule.ts';

function refusal(text: string): StewardError {
  try {
    parseSchedule(text);
  } catch (error) {
    assert.ok(error instanceof StewardError);
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.field, 'schedule');
    return error;
  }
  assert.fail(`"${text}" was accepted`);
}

describe('parseSchedule', () => {
  it('accepts the portable cron subset and N-second intervals that divide a minute', () => {
    for (const ok of ['* * * * *', '*/30 * * * *', '0 * * * *', '30 3 * * *', '0,15,30,45 8-18 * * 1-5', '0 0 1-7 * 0', '0 0 * * 7', '0 12 13 * 5', '10-50/10 * * 2-11/3 *']) {
      assert.equal(parseSchedule(ok).kind, 'cron', ok);
    }
    assert.deepEqual(parseSchedule('  */5   * * * *  '), { kind: 'cron', text: '*/5 * * * *' });
    assert.deepEqual(parseSchedule('30 seconds'), { kind: 'interval', text: '30 seconds', seconds: 30 });
  });

  it('names the cron field that is wrong', () => {
    assert.match(refusal('61 * * * *').message, /the minute field "61" is out of range 0–59/);
    assert.match(refusal('* 24 * * *').message, /the hour field "24" is out of range 0–23/);
    assert.match(refusal('* * 0 * *').message, /the day-of-month field "0" is out of range 1–31/);
    assert.match(refusal('* * * 13 *').message, /the month field "13" is out of range 1–12/);
    assert.match(refusal('* * * * 8').message, /the day-of-week field "8" is out of range 0–7/);
    assert.match(refusal('* * * * MON').message, /the day-of-week field "MON" is not valid: .*names such as MON/);
    assert.match(refusal('5/15 * * * *').message, /the minute field "5\/15" is not valid/);
    assert.match(refusal('*/0 * * * *').message, /the minute field "\*\/0" has a step of 0/);
    assert.match(refusal('0 20-10 * * *').message, /the hour field "20-10" has a range that runs backwards/);
    assert.equal(refusal('0 0 */2 * 1').details?.cron_field, 'day-of-month');
    assert.equal(refusal('0 0 1 * */2').details?.cron_field, 'day-of-week');
  });

  it('refuses other shapes with what it expects', () => {
    assert.match(refusal('* * * *').message, /expected 5 cron fields .* got 4 field\(s\)/);
    assert.match(refusal('0 * * * * *').message, /got 6 field\(s\)/);
    assert.match(refusal('').message, /got 0 field\(s\)/);
    assert.match(refusal('7 seconds').message, /an interval must divide a minute/);
    assert.match(refusal('60 seconds').message, /an interval must divide a minute/);
    assert.match(refusal('@hourly').message, /expected 5 cron fields/);
  });
});

describe('TickCalculator', () => {
  it('computes UTC ticks strictly after a moment', () => {
    const t = new TickCalculator('*/30 * * * *');
    assert.deepEqual(t.between(new Date('2026-03-29T00:10:00Z'), new Date('2026-03-29T02:00:00Z')).map((d) => d.toISOString()),
      ['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']);
    assert.equal(t.next(new Date('2026-03-29T00:30:00Z'))?.toISOString(), '2026-03-29T01:00:00.000Z');
    assert.equal(new TickCalculator('5 seconds').next(new Date('2026-01-01T00:00:04.999Z'))?.toISOString(), '2026-01-01T00:00:05.000Z');
  });

  it('fires on either day when both day fields are restricted (Vixie cron)', () => {
    const fridaysAnd13ths = new TickCalculator('0 0 13 * 5').between(new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z'));
    assert.deepEqual(fridaysAnd13ths.map((d) => d.getUTCDate()), [2, 9, 13, 16, 23, 30]);
  });
});
