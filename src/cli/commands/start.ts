import type { Command } from 'commander';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open-database.ts';
import { hasSeeded, seed } from '../../db/seed.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlTenantService } from '../../services/tenant-service.ts';
import { configFrom, type GlobalOptions } from '../context.ts';
import { createCliWorker } from '../worker-output.ts';
import { stopSignal } from '../stop-signal.ts';
import { printLine } from '../output.ts';
import { loadJwtSecret } from '../../http/auth/jwt-secret.ts';
import { addApiOptions, printApiBanner, serveApi, type ApiOptions } from '../api-server.ts';
import { addTelemetryOptions, createTelemetry, describeOtlp, logError, serveTelemetry, type TelemetryOptions } from '../telemetry.ts';
import { startScheduler, type RunningScheduler } from '../../scheduler/start-scheduler.ts';
import { createWorkerExecutor } from '../composio.ts';
import { describeRun } from './jobs.ts';

/**
 * `steward start`: open the data (embedded PGlite by default), migrate, seed the demo
 * data on the first run, say what happened, run the API server (printing its URL and
 * keys, as `supabase start` does), the outbox worker (Composio with COMPOSIO_API_KEY, else
 * the sandbox) and the scheduler (in-process unless pg_cron runs the jobs), and stay up
 * until Ctrl-C.
 */
export function registerStartCommand(program: Command): void {
  addApiOptions(addTelemetryOptions(program.command('start')
    .description('open the database (embedded by default), migrate, seed on first run, and run the API and the worker until Ctrl-C')
    .option('--no-seed', 'never load the demo seed')
    .option('--seed', 'load the demo seed on first run, also on a DATABASE_URL server (default: embedded only)')
    .option('--no-worker', 'do not run the outbox worker in this process')
    .option('--no-scheduler', 'do not run the scheduled jobs in this process (pg_cron, where present, runs them anyway)')))
    .action(async (opts: { seed?: boolean; worker: boolean; scheduler: boolean } & TelemetryOptions & ApiOptions, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>());
      const embedded = !config.databaseUrl;
      // Before the database: a missing secret on PostgreSQL is a configuration error, reported at once.
      const jwtSecret = loadJwtSecret(config);
      const { db, location } = await openDatabase(config);
      try {
        printLine(embedded ? `Steward (embedded PGlite), data dir: ${location}` : `Steward on PostgreSQL: ${location}`);
        const migrations = await migrate(db.driver, { onApply: (f) => printLine(`  migration applied: ${f.name}`) });
        if (migrations.applied.length === 0) printLine(`  migrations: up to date (${migrations.alreadyApplied.length} applied)`);

        const firstRun = !(await hasSeeded(db.driver));
        const wantSeed = opts.seed ?? embedded;
        if (firstRun && wantSeed) {
          const seeded = await seed(db.driver);
          printLine(`  seeded: ${seeded.applied.join(', ')}`);
        } else if (!firstRun) {
          printLine('  seed: loaded on an earlier run; not loaded again');
        }
        const tenants = await new SqlTenantService(serviceAccess(db)).list({ limit: 1000 });
        printLine(`  tenants (${tenants.length}):`);
        for (const t of tenants) printLine(`    ${t.id}  ${t.name}`);
        const telemetry = createTelemetry(db, config);
        try {
          const chosen = createWorkerExecutor(db);
          const worker = opts.worker ? createCliWorker(db, telemetry, { indent: '  ', executor: chosen.executor }) : undefined;
          // Without a worker, /healthz judges the database alone (worker "off").
          const isAlive = worker ? () => worker.isAlive : undefined;
          const server = await serveTelemetry(db, telemetry, isAlive, opts);
          try {
            // Before the worker starts, and before the signal handlers (whose timer would keep a
            // failed process alive): a port in use stops the command with nothing running.
            const api = await serveApi(db, jwtSecret, telemetry, isAlive, opts);
            let apiClosed = false;
            let scheduler: RunningScheduler | undefined;
            try {
              // Listen before announcing readiness: a signal sent on seeing "Ready" must find
              // the handler installed, not the default action (which kills without closing).
              const stopped = stopSignal();
              worker?.start();
              if (worker) telemetry.logger.info({ worker_id: worker.id }, 'outbox worker started');
              printLine(worker ? `  outbox worker ${worker.id} running (executor ${chosen.description})` : '  outbox worker: off (--no-worker)');
              scheduler = await startScheduler(db, {
                runner: opts.scheduler ? 'auto' : 'off',
                onRun: (run) => printLine(`  ${describeRun(run)}`),
                onError: (error, context) => logError(telemetry.logger, 'scheduler')(error, { context }),
              });
              printLine(`  ${scheduler.description}`);
              printLine(server ? `  metrics: ${server.url}/metrics, health: ${server.url}/healthz` : '  metrics: off (--no-metrics)');
              await printApiBanner(api, jwtSecret, { keys: true, indent: '  ' });
              const otlp = describeOtlp(telemetry);
              if (otlp) printLine(`  ${otlp}`);
              printLine('Ready. Press Ctrl-C to stop.');
              const signal = await stopped;
              printLine(`Stopping (${signal})…`);
              // Requests in flight finish first (they may be approving envelopes); then the
              // worker lets its running envelopes finish and hands its queued ones back.
              await api.close();
              apiClosed = true;
              await scheduler.stop();
              scheduler = undefined;
              await worker?.stop();
              if (worker) telemetry.logger.info({ worker_id: worker.id, signal }, 'outbox worker stopped');
            } finally {
              if (!apiClosed) await api.close();
              await scheduler?.stop(); // a failure after it started must not leave its timers running
            }
          } finally {
            await server?.close();
          }
        } finally {
          await telemetry.close();
        }
      } finally {
        await db.close();
      }
      printLine('Stopped; data dir closed.');
    });
}
