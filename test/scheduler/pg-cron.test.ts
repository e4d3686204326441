import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { detectPgCron } from '../../src/scheduler/pg-cron-detect.ts';
import { cronConnectorFor, cronJobName, syncPgCron, type SyncOptions } from '../../src/scheduler/pg-cron-sync.ts';
import { SqlJobService } from '../../src/scheduler/job-service.ts';
import { serviceAccess } from '../../src/services/access.ts';
import { rejectsWith } from '../support/assert-error.ts';
import { ENGINES, TEST_DATABASE_URL, forEachEngine, type TestDatabase } from '../support/engines.ts';
import { cronJobsOf, databaseOf, unscheduleCronJobsOf } from '../support/scheduler.ts';

// The pg_cron runner: `steward jobs sync` against the PostgreSQL 15 + pg_cron 1.4 of
// .ci/run, whose cron.job lives in database `postgres`, shared by every test database:
// each test database's cron jobs are removed before it is dropped.

forEachEngine('pg_cron detection', (db, engine) => {
  it(engine === 'pglite' ? 'finds no pg_cron in PGlite, and sync says so' : 'finds pg_cron through cron.database_name', async () => {
    const found = await detectPgCron(db().db);
    if (engine === 'pglite') {
      assert.deepEqual(found, { available: false, reason: 'the embedded database (PGlite) has no pg_cron' });
      const error = await rejectsWith(syncPgCron(db().db, () => db().owner), 'not_found');
      assert.match(error.message, /^pg_cron is not available: the embedded database \(PGlite\) has no pg_cron; the in-process runner/);
    } else {
      assert.deepEqual(found, { available: true, database: databaseOf(db().url!), cronDatabase: 'postgres', version: null });
    }
  });
});

describe('cronJobName', () => {
  it('carries the database, and fits pg_cron\'s 63 bytes', () => {
    assert.equal(cronJobName('outbox.recover-leases', 'steward'), 'steward:outbox.recover-leases@steward');
    const long = cronJobName('catalog.trickle-refresh', 'a_database_name_long_enough_to_overflow_the_limit');
    assert.match(long, /^steward:catalog\.trickle-refresh@[0-9a-f]{12}$/);
    assert.ok(Buffer.byteLength(cronJobName('a'.repeat(40), 'b'.repeat(63))) <= 63);
  });
});

for (const engine of ENGINES.filter((e) => e.name === 'postgres')) {
  describe(`steward jobs sync on ${engine.name} with pg_cron`, () => {
    let test: TestDatabase;
    let database: string;
    const sync = (options: SyncOptions = {}) => syncPgCron(test.db, cronConnectorFor(test.url!), options);
    const cron = () => cronJobsOf(TEST_DATABASE_URL!, database);
    const jobs = () => new SqlJobService(serviceAccess(test.db));

    before(async () => {
      test = await engine.open();
      database = databaseOf(test.url!);
    });
    after(async () => {
      await unscheduleCronJobsOf(TEST_DATABASE_URL!, database);
      await test.close();
    });

    it('registers every job with cron.schedule_in_database; a second sync changes nothing', async () => {
      const first = await sync();
      assert.equal(first.cron_database, 'postgres');
      assert.match(first.pg_cron_version, /^1\.4/);
      assert.deepEqual(first.changes.map((c) => [c.job, c.action]), [
        ['catalog.drift-monitor', 'created'], ['catalog.trickle-refresh', 'created'], ['embeddings.reindex', 'created'],
        ['outbox.purge-finished', 'created'], ['outbox.recover-leases', 'created'], ['scheduler.purge-runs', 'created'],
      ]);
      const rows = await cron();
      assert.deepEqual(rows.map((r) => [r.jobname, r.schedule, r.command, r.active]), [
        [`steward:catalog.drift-monitor@${database}`, '0 * * * *', `call steward.run_job('catalog.drift-monitor')`, true],
        [`steward:catalog.trickle-refresh@${database}`, '*/30 * * * *', `call steward.run_job('catalog.trickle-refresh')`, true],
        [`steward:embeddings.reindex@${database}`, '30 3 * * *', `call steward.run_job('embeddings.reindex')`, true],
        [`steward:outbox.purge-finished@${database}`, '15 4 * * *', `call steward.run_job('outbox.purge-finished')`, true],
        [`steward:outbox.recover-leases@${database}`, '*/5 * * * *', `call steward.run_job('outbox.recover-leases')`, true],
        [`steward:scheduler.purge-runs@${database}`, '45 4 * * *', `call steward.run_job('scheduler.purge-runs')`, true],
      ]);
      const second = await sync();
      assert.ok(second.changes.every((c) => c.action === 'unchanged'), JSON.stringify(second.changes));
      assert.deepEqual(await cron(), rows);
    });

    it('maps pause and resume to cron.alter_job active, for the one job', async () => {
      await jobs().pause('catalog.drift-monitor', 'test');
      const paused = await sync({ job: 'catalog.drift-monitor', onlyRegistered: true });
      assert.deepEqual(paused.changes.map((c) => [c.job, c.action, c.active]), [['catalog.drift-monitor', 'paused', false]]);
      assert.equal((await cron()).find((r) => r.jobname.startsWith('steward:catalog.drift-monitor@'))?.active, false);
      assert.ok((await sync()).changes.every((c) => c.action === 'unchanged'));
      await jobs().resume('catalog.drift-monitor', 'test');
      assert.deepEqual((await sync()).changes.filter((c) => c.action !== 'unchanged').map((c) => [c.job, c.action]), [['catalog.drift-monitor', 'resumed']]);
      assert.ok((await cron()).every((r) => r.active));
    });

    it('updates a changed schedule (a dry run first changes nothing), and removes the cron job of a deleted job', async () => {
      await jobs().configure('outbox.recover-leases', { schedule: '*/10 * * * *' }, 'test');
      const dry = await sync({ dryRun: true });
      assert.deepEqual(dry.changes.filter((c) => c.action !== 'unchanged').map((c) => [c.job, c.action, c.detail]),
        [['outbox.recover-leases', 'updated', 'schedule */5 * * * * → */10 * * * *']]);
      assert.equal((await cron()).find((r) => r.jobname.startsWith('steward:outbox.recover-leases@'))?.schedule, '*/5 * * * *');
      await sync();
      assert.equal((await cron()).find((r) => r.jobname.startsWith('steward:outbox.recover-leases@'))?.schedule, '*/10 * * * *');
      await test.owner.transaction((tx) => tx.query(`delete from steward.jobs where name = 'scheduler.purge-runs'`));
      const removed = await sync();
      assert.deepEqual(removed.changes.filter((c) => c.action !== 'unchanged').map((c) => [c.job, c.action]), [['scheduler.purge-runs', 'removed']]);
      assert.equal((await cron()).length, 5);
    });

    it('refuses second intervals on pg_cron 1.4, naming the job, and syncs the rest', async () => {
      await jobs().configure('embeddings.reindex', { schedule: '30 seconds' }, 'test');
      const report = await sync();
      const refused = report.changes.filter((c) => c.action === 'refused');
      assert.deepEqual(refused.map((c) => c.job), ['embeddings.reindex']);
      assert.match(refused[0]!.detail!, /^pg_cron 1\.4\S* cannot run "30 seconds" \(second intervals need pg_cron 1\.5\+\)/);
      assert.equal((await cron()).find((r) => r.jobname.startsWith('steward:embeddings.reindex@'))?.schedule, '30 3 * * *', 'left as it was');
    });
  });
}
