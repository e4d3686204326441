import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SqlJobService } from '../../src/scheduler/job-service.ts';
import { rejectsWith } from '../support/assert-error.ts';
import { forEachBackend } from '../support/backends.ts';

// Operating jobs: list, pause, resume, configure, history. Bad input changes nothing.

const DEFINED = ['catalog.drift-monitor', 'catalog.trickle-refresh', 'embeddings.reindex', 'outbox.purge-finished', 'outbox.recover-leases', 'scheduler.purge-runs'];

forEachBackend('SqlJobService', (ctx) => {
  const jobs = (clock?: () => Date) => new SqlJobService(ctx().service(), clock ? { clock } : {});
  const auditRows = async (): Promise<{ actor_id: string; payload: Record<string, unknown> }[]> =>
    (await ctx().test.owner.transaction((tx) => tx.query<{ actor_id: string; payload: Record<string, unknown> }>(
      `select actor_id, payload from audit_log where category = 'scheduler' order by id`))).rows;

  it('lists the jobs the migration defines, each with its next tick (UTC) and no run yet', async () => {
    const list = await jobs(() => new Date('2026-03-01T10:07:00Z')).list();
    assert.deepEqual(list.map((j) => j.name), DEFINED);
    const byName = Object.fromEntries(list.map((j) => [j.name, j]));
    assert.deepEqual(byName['catalog.trickle-refresh']?.next_tick, new Date('2026-03-01T10:30:00Z'));
    assert.deepEqual(byName['catalog.drift-monitor']?.next_tick, new Date('2026-03-01T11:00:00Z'));
    assert.deepEqual(byName['embeddings.reindex']?.next_tick, new Date('2026-03-02T03:30:00Z'));
    assert.deepEqual(byName['outbox.recover-leases']?.next_tick, new Date('2026-03-01T10:10:00Z'));
    assert.ok(list.every((j) => j.enabled && j.last_run === null));
    assert.match(byName['embeddings.reindex']?.description ?? '', /steward\.evidence\.reindex/);
  });

  it('pauses and resumes, audited once per change; a paused job has no next tick', async () => {
    const paused = await jobs().pause('catalog.drift-monitor', 'cli:alice');
    assert.equal(paused.enabled, false);
    await jobs().pause('catalog.drift-monitor', 'cli:alice'); // already paused: no change, no audit row
    assert.equal((await jobs().list()).find((j) => j.name === 'catalog.drift-monitor')?.next_tick, null);
    const resumed = await jobs().resume('catalog.drift-monitor', 'cli:alice');
    assert.equal(resumed.enabled, true);
    assert.ok(resumed.active_since > paused.active_since, 'missed ticks count from the resume');
    assert.deepEqual(await auditRows(), [
      { actor_id: 'cli:alice', payload: { job: 'catalog.drift-monitor', change: 'pause', from: true, to: false } },
      { actor_id: 'cli:alice', payload: { job: 'catalog.drift-monitor', change: 'resume', from: false, to: true } },
    ]);
  });

  it('configures schedule, timeout and arguments, audited with before and after', async () => {
    const job = await jobs().configure('outbox.purge-finished', { schedule: '0  5 * * *', timeout_seconds: 120, arguments: { older_than: '14 days' } }, 'cli:bob');
    assert.deepEqual([job.schedule, job.timeout_seconds, job.arguments], ['0 5 * * *', 120, { older_than: '14 days' }]);
    const last = (await auditRows()).at(-1)!;
    assert.deepEqual(last.payload, {
      job: 'outbox.purge-finished', change: 'configure',
      from: { schedule: '15 4 * * *', timeout_seconds: 600, arguments: { older_than: '30 days', batch_size: 1000, max_batches: 100 } },
      to: { schedule: '0 5 * * *', timeout_seconds: 120, arguments: { older_than: '14 days' } },
    });
  });

  it('refuses bad schedules, timeouts and arguments naming the field, and changes nothing', async () => {
    const before = await jobs().get('outbox.recover-leases');
    const auditBefore = (await auditRows()).length;
    const bad = await rejectsWith(jobs().configure('outbox.recover-leases', { schedule: '*/5 * * 13 *' }, 'cli:bob'), 'invalid_input', 'schedule');
    assert.match(bad.message, /the month field "13" is out of range 1–12/);
    await rejectsWith(jobs().configure('outbox.recover-leases', { schedule: '*/5 * * * *', timeout_seconds: 0 }, 'cli:bob'), 'invalid_input', 'timeout_seconds');
    const arg = await rejectsWith(jobs().configure('outbox.recover-leases', { arguments: { max_attempts: { low: 0, medium: 1, high: 1 } } }, 'cli:bob'), 'invalid_input', 'arguments.max_attempts.low');
    assert.match(arg.message, /arguments\.max_attempts\.low/);
    const unknownArg = await rejectsWith(jobs().configure('outbox.recover-leases', { arguments: { maxAttempts: 3 } }, 'cli:bob'), 'invalid_input', 'arguments.maxAttempts');
    assert.match(unknownArg.message, /is not an argument of outbox\.recover_expired_leases/);
    await rejectsWith(jobs().configure('outbox.recover-leases', {}, 'cli:bob'), 'invalid_input', 'input');
    assert.deepEqual(await jobs().get('outbox.recover-leases'), before);
    assert.equal((await auditRows()).length, auditBefore);
  });

  it('names an unknown job, for every operation', async () => {
    for (const op of [
      () => jobs().get('catalog.drfit-monitor'), () => jobs().pause('catalog.drfit-monitor', 'x'), () => jobs().resume('catalog.drfit-monitor', 'x'),
      () => jobs().configure('catalog.drfit-monitor', { schedule: '* * * * *' }, 'x'), () => jobs().history({ job: 'catalog.drfit-monitor' }),
    ]) {
      const error = await rejectsWith(op(), 'not_found', 'job');
      assert.match(error.message, /^job catalog\.drfit-monitor not found/);
    }
    await rejectsWith(jobs().get('Not A Name!'), 'not_found', 'job');
  });

  it('reads history newest first, of one job or all', async () => {
    await ctx().test.owner.transaction((tx) => tx.query(
      `insert into steward.job_runs (job_name, runner, started_at, finished_at, status, message) values
         ('embeddings.reindex', 'manual', now() - interval '2 minutes', now(), 'succeeded', 'a'),
         ('outbox.recover-leases', 'pg_cron', now() - interval '1 minute', now(), 'failed', 'b')`));
    assert.deepEqual((await jobs().history()).map((r) => r.message), ['b', 'a']);
    assert.deepEqual((await jobs().history({ job: 'embeddings.reindex' })).map((r) => [r.job_name, r.runner, r.status]), [['embeddings.reindex', 'manual', 'succeeded']]);
    assert.deepEqual((await jobs().history({ limit: 1 })).map((r) => r.message), ['b']);
    await rejectsWith(jobs().history({ limit: 0 }), 'invalid_input', 'limit');
  });

  it('is the operators\' alone: a tenant token reaches neither jobs nor runs', async () => {
    const tenant = new SqlJobService(ctx().tenant({ tenant_id: '11111111-1111-1111-1111-111111111111' }));
    await rejectsWith(tenant.list(), 'forbidden');
  });
});
