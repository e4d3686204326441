import type { Command } from 'commander';
import { rm } from 'node:fs/promises';
import { DataDirLock } from '../../db/data-dir-lock.ts';
import { migrate, migrationStatus } from '../../db/migrate.ts';
import { openDatabase } from '../../db/open-database.ts';
import { resetDatabase } from '../../db/reset.ts';
import { seed } from '../../db/seed.ts';
import { configFrom, withDatabase, type GlobalOptions } from '../context.ts';
import { printJson, printLine, printTable } from '../output.ts';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('migrations and seed data');

  db.command('migrate')
    .description('apply pending migrations (db/migrations), each in its own transaction')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db: database, location }) => {
        const result = await migrate(database.driver, { onApply: (f) => { if (!opts.json) printLine(`applying ${f.name}`); } });
        if (opts.json) return printJson({ location, ...result });
        printLine(result.applied.length > 0
          ? `${location}: applied ${result.applied.length} migration(s)`
          : `${location}: up to date (${result.alreadyApplied.length} migrations applied)`);
      }, { schema: 'any' });
    });

  db.command('status')
    .description('list applied and pending migrations; exits 1 if any are pending')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db: database, location }) => {
        const { applied, pending } = await migrationStatus(database.driver);
        const rows = [
          ...applied.map((a) => ({ migration: a.name, status: 'applied', applied_at: a.applied_at, checksum: a.checksum.slice(0, 12) })),
          ...pending.map((p) => ({ migration: p.name, status: 'pending', applied_at: null, checksum: p.checksum.slice(0, 12) })),
        ];
        if (opts.json) printJson({ location, migrations: rows });
        else {
          printLine(location);
          printTable(rows, ['migration', 'status', 'applied_at', 'checksum']);
        }
        if (pending.length > 0) process.exitCode = 1;
      }, { schema: 'any' });
    });

  db.command('seed')
    .description('load the demo seed (db/seeds) if not loaded yet; idempotent')
    .option('--force', 'run the seed files again (they never duplicate rows)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { force?: boolean; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db: database }) => {
        const result = await seed(database.driver, { force: opts.force ?? false });
        if (opts.json) return printJson(result);
        for (const name of result.applied) printLine(`seeded ${name}`);
        for (const name of result.skipped) printLine(`${name} already seeded (use --force to run it again)`);
      });
    });

  db.command('reset')
    .description('DESTROY all Steward data, then migrate and seed again')
    .requiredOption('--yes', 'confirm that all data in the database is to be deleted')
    .option('--no-seed', 'do not load the demo seed afterwards')
    .action(async (opts: { seed: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const config = configFrom(globals);
      if (config.databaseUrl) {
        const { db: database, location } = await openDatabase(config);
        try {
          await resetDatabase(database.driver);
          printLine(`${location}: dropped Steward's schemas`);
        } finally {
          await database.close();
        }
      } else {
        // Embedded: delete the data dir under its lock (refused while `steward start` runs).
        const lock = DataDirLock.acquire(config.dataDir);
        try {
          await rm(config.dataDir, { recursive: true, force: true });
        } finally {
          lock.release();
        }
        printLine(`${config.dataDir}: deleted`);
      }
      await withDatabase(globals, async ({ db: database }) => {
        const applied = await migrate(database.driver);
        printLine(`applied ${applied.applied.length} migration(s)`);
        if (opts.seed) for (const name of (await seed(database.driver)).applied) printLine(`seeded ${name}`);
      }, { schema: 'any' });
    });
}
