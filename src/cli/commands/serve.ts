import type { Command } from 'commander';
import { migrate, migrationStatus } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open-database.ts';
import { StewardError } from '../../errors.ts';
import { loadJwtSecret } from '../../http/auth/jwt-secret.ts';
import { addApiOptions, printApiBanner, serveApi, type ApiOptions } from '../api-server.ts';
import { configFrom, type GlobalOptions } from '../context.ts';
import { printLine } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';
import { createTelemetry } from '../telemetry.ts';

/**
 * `steward serve`: the API server alone, for production next to `steward outbox start`
 * workers (DESIGN.md §2). It needs STEWARD_JWT_SECRET on PostgreSQL, refuses a schema
 * with pending migrations there, and migrates an embedded data dir (it is Steward's own).
 * Ctrl-C lets requests in flight finish before the database closes.
 */
export function registerServeCommand(program: Command): void {
  addApiOptions(program.command('serve')
    .description('run the API server (REST on /rest/v1, /healthz, /metrics) until Ctrl-C'))
    .action(async (opts: ApiOptions, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>());
      // Before the database: a missing secret is a configuration error, reported at once.
      const jwtSecret = loadJwtSecret(config);
      const { db, location } = await openDatabase(config);
      try {
        const embedded = !config.databaseUrl;
        printLine(embedded ? `Steward API (embedded PGlite), data dir: ${location}` : `Steward API on PostgreSQL: ${location}`);
        if (embedded) {
          await migrate(db.driver);
        } else {
          const { pending } = await migrationStatus(db.driver);
          if (pending.length > 0) throw new StewardError('migrations_pending', `${location} has ${pending.length} pending migration(s) (${pending.map((p) => p.name).join(', ')}); run: steward db migrate`);
        }
        const telemetry = createTelemetry(db, config);
        try {
          const server = await serveApi(db, jwtSecret, telemetry, undefined, opts);
          try {
            // After listening (a port in use must end the process, which the handlers' timer
            // would keep alive), before "Ready" (a signal sent on seeing it must find them).
            const stopped = stopSignal();
            await printApiBanner(server, jwtSecret, { keys: false, indent: '  ' });
            telemetry.logger.info({ url: server.url }, 'API server listening');
            printLine('Ready. Press Ctrl-C to stop.');
            const signal = await stopped;
            printLine(`Stopping (${signal})…`);
          } finally {
            await server.close();
          }
        } finally {
          await telemetry.close();
        }
      } finally {
        await db.close();
      }
      printLine('Stopped.');
    });
}
