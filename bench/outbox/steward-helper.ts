// One extra Steward worker process for the multi-process serialized case, forked by
// steward.ts with an IPC channel: it opens the bench database, says `ready`, starts its
// OutboxWorker on `start`, reports completed envelopes (coalesced), and on `stop` stops
// and reports the most envelopes of one tenant its executor ran at once.
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { OutboxWorker } from '../../src/worker/outbox-worker.ts';
import type { HelperCommand, HelperEvent, MeasurementRequest } from './protocol.ts';
import { NoopExecutor } from './steward-fixture.ts';

const req = JSON.parse(process.argv[2] ?? '{}') as MeasurementRequest;
const send = (event: HelperEvent, then?: () => void): void => {
  process.send!(event, undefined, {}, () => then?.());
};

const { db } = await openDatabase(loadConfig({ DATABASE_URL: req.url }));
const executor = new NoopExecutor();
let unreported = 0;
let flushScheduled = false;
const worker = new OutboxWorker(db, executor, {
  concurrency: req.concurrency,
  ...(req.steward?.batchSize === undefined ? {} : { batchSize: req.steward.batchSize }),
  onCompleted: (_envelope, _completion, applied) => {
    if (!applied.applied || applied.status !== 'success') return;
    unreported++;
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      send({ type: 'completed', n: unreported });
      unreported = 0;
    });
  },
  onError: (error) => console.error(`[steward helper ${process.pid}] ${error instanceof Error ? error.message : String(error)}`),
});

process.on('message', (command: HelperCommand) => {
  if (command.type === 'start') worker.start();
  if (command.type === 'stop') {
    void (async () => {
      await worker.stop();
      await db.close();
      send({ type: 'stopped', maxInFlightPerTenant: executor.maxInFlightPerTenant }, () => process.exit(0));
    })();
  }
});
send({ type: 'ready' });
