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
import { addTelemetryOptions, createTelemetry, describeOtlp, serveTelemetry, type TelemetryOptions } from '../telemetry.ts';

/**
 * `steward start`: open the data (embedded PGlite by default), migrate, seed the demo
 * data on the first run, say what happened, run the outbox worker (sandbox executor),
 * and stay up until Ctrl-C. The API server and scheduler join this process later.
 */
export function registerStartCommand(program: Command): void {
  addTelemetryOptions(program.command('start')
    .description('open the database (embedded by default), migrate, seed on first run, and run until Ctrl-C')
    .option('--no-seed', 'never load the demo seed')
    .option('--seed', 'load the demo seed on first run, also on a DATABASE_URL server (default: embedded only)')
    .option('--no-worker', 'do not run the outbox worker in this process'))
    .action(async (opts: { seed?: boolean; worker: boolean } & TelemetryOptions, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>());
      const embedded = !config.databaseUrl;
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
          const worker = opts.worker ? createCliWorker(db, telemetry, { indent: '  ' }) : undefined;
          // Without a worker, /healthz judges the database alone (worker "off").
          const server = await serveTelemetry(db, telemetry, worker ? () => worker.isAlive : undefined, opts);
          try {
            // Listen before announcing readiness: a signal sent on seeing "Ready" must find
            // the handler installed, not the default action (which kills without closing).
            const stopped = stopSignal();
            worker?.start();
            if (worker) telemetry.logger.info({ worker_id: worker.id }, 'outbox worker started');
            printLine(worker ? `  outbox worker ${worker.id} running (sandbox executor)` : '  outbox worker: off (--no-worker)');
            printLine(server ? `  metrics: ${server.url}/metrics, health: ${server.url}/healthz` : '  metrics: off (--no-metrics)');
            const otlp = describeOtlp(telemetry);
            if (otlp) printLine(`  ${otlp}`);
            printLine('Ready. Press Ctrl-C to stop.');
            const signal = await stopped;
            printLine(`Stopping (${signal})…`);
            await worker?.stop();
            if (worker) telemetry.logger.info({ worker_id: worker.id, signal }, 'outbox worker stopped');
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
