// Measurement child for pg-boss 12: boss (batchSize 10) and boss100 (batchSize 100), both
// with LISTEN/NOTIFY as pg-boss 12 documents it (constructor `useListenNotify: true` plus
// the queue's `notify: true`) and `burstWhenBatchFull` (keep fetching while batches come
// back full; without it a worker sleeps its poll interval after every batch).
// Usage: node bench/outbox/pgboss.ts '<MeasurementRequest JSON>' (the runner does this).
import { PgBoss } from 'pg-boss';
import { Completions, LatencyProbe, RemainingCounter, TimedWindow, addPaced, chunks, runChild, throughputFields, timed, untilEmpty, vacuumAndCheckpoint } from './child.ts';
import type { MeasurementRequest, MeasurementResult } from './protocol.ts';

const QUEUE = 'bench';

runChild(async (req: MeasurementRequest): Promise<MeasurementResult> => {
  const url = req.url!;
  const batchSize = req.pgboss?.batchSize ?? 10;
  const boss = new PgBoss({ connectionString: url, max: req.poolSize, useListenNotify: true });
  boss.on('error', (error) => console.error(`[pg-boss error] ${error instanceof Error ? error.message : String(error)}`));
  boss.on('warning', (warning) => console.error(`[pg-boss warning] ${JSON.stringify(warning)}`));
  await boss.start();
  // Jobs left in the created/retry/active states (completed jobs stay in the table).
  const counter = await RemainingCounter.open(url, `select count(*)::int as n from pgboss.job where name = '${QUEUE}' and state < 'completed'`);
  try {
    await boss.createQueue(QUEUE, { notify: true });
    await vacuumAndCheckpoint(url);

    const probe = new LatencyProbe();
    const done = new Completions(req.jobs);
    const enqueue = req.workload === 'latency'
      ? { seconds: 0 }
      : await timed(async () => {
        for (const seqs of chunks(req.jobs, req.addBatch)) await boss.insert(QUEUE, seqs.map((seq) => ({ data: { seq } })));
      });

    const window = new TimedWindow();
    await boss.work<{ seq: number }>(QUEUE, { batchSize, localConcurrency: req.concurrency, burstWhenBatchFull: true }, (jobs) => {
      for (const job of jobs) probe.started(job.data.seq);
      done.hit(jobs.length);
      return Promise.resolve();
    });
    if (req.workload === 'latency') {
      await new Promise((resolve) => setTimeout(resolve, req.idleMs));
      await addPaced(req.jobs, req.intervalMs, probe, (seq) => boss.send(QUEUE, { seq }));
    }
    await done.wait(req.timeoutMs, req.config);
    await untilEmpty(counter, req.timeoutMs, req.config);
    const measured = window.close();
    return {
      ...throughputFields(req, enqueue, measured),
      ...(req.workload === 'latency' ? { latencyMs: probe.summary() } : {}),
    };
  } finally {
    await counter.close();
    await boss.stop({ graceful: true, close: true });
  }
});
