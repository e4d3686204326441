import type { Command } from 'commander';
import { once } from 'node:events';
import { migrate } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open-database.ts';
import { hasSeeded, seed } from '../../db/seed.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlTenantService } from '../../services/tenant-service.ts';
import { configFrom, type GlobalOptions } from '../context.ts';
import { printLine } from '../output.ts';

/**
 * Waits for SIGINT or SIGTERM. Signal listeners do not keep Node's event loop alive, so
 * a timer holds it open meanwhile; without it, the process would drift out through the
 * end of the loop as soon as the database went idle, without closing anything.
 */
async function untilSignal(): Promise<NodeJS.Signals> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    const [signal] = await Promise.race([
      once(process, 'SIGINT').then(() => ['SIGINT'] as const),
      once(process, 'SIGTERM').then(() => ['SIGTERM'] as const),
    ]);
    return signal;
  } finally {
    clearInterval(keepAlive);
  }
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
        const stopped = untilSignal();
        printLine('Ready. Press Ctrl-C to stop.');
        printLine(`Stopping (${await stopped})…`);
      } finally {
        await db.close();
      }
      printLine('Stopped; data dir closed.');
    });
}
