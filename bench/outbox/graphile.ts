// Measurement child for graphile-worker 0.18: gw (defaults), gwb (localQueue 100 +
// completeJobBatchDelay 0, its documented batching config), gwq (50 named queues).
// Usage: node bench/outbox/graphile.ts '<MeasurementRequest JSON>' (the runner does this).
import { Logger, makeWorkerUtils, run, runMigrations, type RunnerOptions, type TaskList, type WorkerUtils } from 'graphile-worker';
import { Completions, LatencyProbe, RemainingCounter, TimedWindow, addPaced, chunks, runChild, throughputFields, timed, untilEmpty, vacuumAndCheckpoint } from './child.ts';
import type { MeasurementRequest, MeasurementResult } from './protocol.ts';

// Warnings and errors only: an info line per completed job would measure the console.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`[graphile ${level}] ${message}`);
});

const TASK = 'noop';

runChild(async (req: MeasurementRequest): Promise<MeasurementResult> => {
  const url = req.url!;
  const g = req.graphile ?? {};
  const worker: NonNullable<NonNullable<RunnerOptions['preset']>['worker']> = {};
  if (g.localQueueSize !== undefined) worker.localQueue = { size: g.localQueueSize };
  if (g.completeJobBatchDelay !== undefined) worker.completeJobBatchDelay = g.completeJobBatchDelay;
  const options: RunnerOptions = {
    connectionString: url,
    concurrency: req.concurrency,
    maxPoolSize: req.poolSize,
    noHandleSignals: true,
    logger,
    ...(Object.keys(worker).length > 0 ? { preset: { worker } } : {}),
  };

  await runMigrations(options);
  await vacuumAndCheckpoint(url);
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  // graphile deletes a job when it completes: the queue is empty when no row is left.
  const counter = await RemainingCounter.open(url, 'select count(*)::int as n from graphile_worker._private_jobs');
  try {
    const probe = new LatencyProbe();
    const done = new Completions(req.jobs);
    const taskList: TaskList = {
      [TASK]: (payload) => {
        probe.started((payload as { seq: number }).seq);
        done.hit();
      },
    };
    const queueOf = (seq: number): string | undefined => (req.workload === 'serialized' ? `q${seq % req.tenants}` : undefined);

    const enqueue = req.workload === 'latency' ? { seconds: 0 } : await timed(() => addAll(utils, req, queueOf));
    const window = new TimedWindow();
    const runner = await run({ ...options, taskList });
    try {
      if (req.workload === 'latency') {
        await new Promise((resolve) => setTimeout(resolve, req.idleMs));
        await addPaced(req.jobs, req.intervalMs, probe, (seq) => utils.addJob(TASK, { seq }));
      }
      await done.wait(req.timeoutMs, req.config);
      await untilEmpty(counter, req.timeoutMs, req.config);
      const measured = window.close();
      return {
        ...throughputFields(req, enqueue, measured),
        ...(req.workload === 'latency' ? { latencyMs: probe.summary() } : {}),
      };
    } finally {
      await runner.stop();
    }
  } finally {
    await counter.close();
    await utils.release();
  }
});

async function addAll(utils: WorkerUtils, req: MeasurementRequest, queueOf: (seq: number) => string | undefined): Promise<void> {
  for (const seqs of chunks(req.jobs, req.addBatch)) {
    await utils.addJobs(seqs.map((seq) => {
      const queueName = queueOf(seq);
      return { identifier: TASK, payload: { seq }, ...(queueName ? { queueName } : {}) };
    }));
  }
}
