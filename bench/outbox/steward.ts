// Measurement child for Steward's OutboxWorker: on PostgreSQL (steward-pg, and the
// serialized cases with one or two worker processes) and on embedded PGlite
// (steward-pglite, data dir in a temporary directory). The database is opened the way the
// CLI opens it (openDatabase from a Config) and migrated; the workload is built through
// the services (steward-fixture.ts); every run is verified afterwards (steward-checks.ts).
// Usage: node bench/outbox/steward.ts '<MeasurementRequest JSON>' (the runner does this).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { OutboxWorker } from '../../src/worker/outbox-worker.ts';
import {
  Completions, LatencyProbe, RemainingCounter, TimedWindow, addPaced, chunks, runChild, throughputFields, timed, untilEmpty,
  type Remaining, type WindowResult,
} from './child.ts';
import type { HelperCommand, HelperEvent, MeasurementRequest, MeasurementResult } from './protocol.ts';
import { verifyStewardRun } from './steward-checks.ts';
import { NoopExecutor, createTenants, envelope, outboxService } from './steward-fixture.ts';

const UNFINISHED = `select count(*)::int as n from outbox where status in ('pending', 'in_progress')`;

runChild(async (req: MeasurementRequest): Promise<MeasurementResult> => {
  const s = req.steward!;
  const tmp = s.engine === 'pglite' ? await mkdtemp(join(tmpdir(), 'steward-bench-')) : undefined;
  const config = loadConfig(tmp ? { STEWARD_DATA_DIR: join(tmp, 'data') } : { DATABASE_URL: req.url });
  const { db } = await openDatabase(config);
  const helpers: Helper[] = [];
  try {
    await migrate(db.driver);
    const tenants = await createTenants(db, req.tenants, s.tenantLimit);
    await vacuumAndCheckpoint(db);
    const outbox = outboxService(db);

    // `arrival` order: due an hour ago, one ms apart in enqueue order (see StewardOptions.order).
    const dueFrom = s.order === 'arrival' ? new Date(Date.now() - 3_600_000) : undefined;
    const enqueue = req.workload === 'latency'
      ? { seconds: 0 }
      : await timed(async () => {
        for (const seqs of chunks(req.jobs, req.addBatch)) await outbox.enqueueMany(seqs.map((seq) => envelope(tenants, seq, dueFrom)));
      });

    const probe = new LatencyProbe();
    const done = new Completions(req.jobs);
    const executor = new NoopExecutor((seq) => probe.started(seq));
    const worker = new OutboxWorker(db, executor, {
      concurrency: req.concurrency,
      ...(s.batchSize === undefined ? {} : { batchSize: s.batchSize }),
      onCompleted: (_envelope, _completion, applied) => {
        if (applied.applied && applied.status === 'success') done.hit();
      },
      onError: (error) => console.error(`[steward worker] ${error instanceof Error ? error.message : String(error)}`),
    });
    for (let i = 1; i < s.processes; i++) helpers.push(await Helper.fork(req, (n) => done.hit(n)));
    const counter: Remaining & { close(): Promise<void> } = req.url
      ? await RemainingCounter.open(req.url, UNFINISHED)
      : { remaining: () => db.driver.transaction(async (tx) => (await tx.query<{ n: number }>(UNFINISHED)).rows[0]!.n), close: () => Promise.resolve() };

    let measured: WindowResult;
    try {
      const window = new TimedWindow();
      worker.start();
      for (const h of helpers) h.send({ type: 'start' });
      if (req.workload === 'latency') {
        await new Promise((resolve) => setTimeout(resolve, req.idleMs));
        await addPaced(req.jobs, req.intervalMs, probe, (seq) => outbox.enqueue(envelope(tenants, seq)));
      }
      await done.wait(req.timeoutMs, req.config);
      await untilEmpty(counter, req.timeoutMs, req.config);
      measured = window.close();
    } finally {
      await counter.close();
      await worker.stop();
    }
    let maxInFlightPerTenant = executor.maxInFlightPerTenant;
    for (const h of helpers.splice(0)) maxInFlightPerTenant = Math.max(maxInFlightPerTenant, await h.stop());

    const checks = await verifyStewardRun(db, req.jobs);
    return {
      ...throughputFields(req, enqueue, measured),
      ...(req.workload === 'latency' ? { latencyMs: probe.summary() } : {}),
      checks: { ...checks, executorMaxInFlightPerTenant: maxInFlightPerTenant, processes: s.processes, engine: db.engine },
    };
  } finally {
    for (const h of helpers) h.kill();
    await db.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
});

/** VACUUM ANALYZE then CHECKPOINT, outside any transaction, on either engine. */
async function vacuumAndCheckpoint(db: Database): Promise<void> {
  await db.driver.withSession(async (session) => {
    await session.query('vacuum analyze');
    await session.query('checkpoint');
  });
}

/** An extra worker process (steward-helper.ts), driven over IPC. */
class Helper {
  readonly #proc: ChildProcess;
  readonly #stopped: PromiseWithResolvers<number> = Promise.withResolvers();

  private constructor(proc: ChildProcess) {
    this.#proc = proc;
  }

  static async fork(req: MeasurementRequest, onCompleted: (n: number) => void): Promise<Helper> {
    // The helper's stdout goes to our stderr: our stdout carries only the result line.
    const proc = fork(new URL('./steward-helper.ts', import.meta.url), [JSON.stringify(req)], { stdio: ['ignore', process.stderr, 'inherit', 'ipc'] });
    const helper = new Helper(proc);
    helper.#stopped.promise.catch(() => undefined); // a helper killed after a failure is not another failure
    const ready = Promise.withResolvers<void>();
    proc.on('message', (event: HelperEvent) => {
      if (event.type === 'ready') ready.resolve();
      if (event.type === 'completed') onCompleted(event.n);
      if (event.type === 'stopped') helper.#stopped.resolve(event.maxInFlightPerTenant);
    });
    proc.on('exit', (code) => {
      const error = new Error(`steward helper ${proc.pid} exited with ${code}`);
      ready.reject(error);
      helper.#stopped.reject(error);
    });
    await ready.promise;
    return helper;
  }

  send(command: HelperCommand): void {
    this.#proc.send(command);
  }

  /** Stops its worker; resolves with its executor's most envelopes of one tenant at once. */
  async stop(): Promise<number> {
    this.send({ type: 'stop' });
    return this.#stopped.promise;
  }

  kill(): void {
    if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
  }
}
