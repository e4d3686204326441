import type { Command } from 'commander';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open-database.ts';
import { hasSeeded, seed } from '../../db/seed.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlTenantService } from '../../services/tenant-service.ts';
import { configFrom, type GlobalOptions } from '../context.ts';
import { printLine } from '../output.ts';

/** How long closing may take after a stop signal before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * Resolves on the first SIGINT or SIGTERM and keeps absorbing later ones: under
 * `npm start` a Ctrl-C arrives twice (from the terminal, and forwarded by npm), and a
 * second signal must not hit the default action, which kills without closing anything.
 * Signal listeners do not keep Node's event loop alive, so a timer holds it open until
 * the first signal; after it, an unref'd timer ends a shutdown that hangs.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      clearInterval(keepAlive);
      setTimeout(() => {
        process.stderr.write(`steward: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting\n`);
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * `steward start`: open the data (embedded PGlite by default), migrate, seed the demo
 * data on the first run, say what happened, and stay up until Ctrl-C. The API server,
 * worker and scheduler join this process in later releases.
 */
export function registerStartCommand(program: Command): void {
  program.command('start')
    .description('open the database (embedded by default), migrate, seed on first run, and run until Ctrl-C')
    .option('--no-seed', 'never load the demo seed')
    .option('--seed', 'load the demo seed on first run, also on a DATABASE_URL server (default: embedded only)')
    .action(async (opts: { seed?: boolean }, cmd: Command) => {
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
        // Listen before announcing readiness: a signal sent on seeing "Ready" must find
        // the handler installed, not the default action (which kills without closing).
        const stopped = stopSignal();
        printLine('Ready. Press Ctrl-C to stop.');
        printLine(`Stopping (${await stopped})…`);
      } finally {
        await db.close();
      }
      printLine('Stopped; data dir closed.');
    });
}
