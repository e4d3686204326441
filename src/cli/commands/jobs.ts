import type { Command } from 'commander';
import { StewardError } from '../../errors.ts';
import type { Database } from '../../db/database.ts';
import { serviceAccess } from '../../services/access.ts';
import type { JobRun } from '../../scheduler/job-definition.ts';
import { SqlJobService, unknownJob } from '../../scheduler/job-service.ts';
import { detectPgCron } from '../../scheduler/pg-cron-detect.ts';
import { cronConnectorFor, syncPgCron, type SyncChange } from '../../scheduler/pg-cron-sync.ts';
import { runJob } from '../../scheduler/run-job.ts';
import { startScheduler } from '../../scheduler/start-scheduler.ts';
import { withDatabase, type CommandContext, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printLine, printTable } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';

/**
 * `steward jobs …`: the recurring jobs (src/scheduler). Definitions and the run log are
 * the same on both engines; `sync` registers them with pg_cron where the server has it,
 * `start` runs them in this process where it does not.
 */
export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('recurring jobs: pg_cron where the server has it, else in-process (as the service role)');

  jobs.command('list')
    .description('every job: schedule (UTC), state, next tick, last run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const rows = await service(db).list();
        if (opts.json) return printJson(rows);
        printTable(rows.map((j) => ({
          ...j, state: j.enabled ? 'active' : 'paused', last: j.last_run ? `${j.last_run.status} ${j.last_run.started_at.toISOString()}` : '',
        })), ['name', 'schedule', 'state', 'next_tick', 'last', 'target']);
      });
    });

  for (const [verb, description] of [
    ['pause', 'stop a job\'s scheduled runs, on either runner (run-now still runs it)'],
    ['resume', 'start a paused job\'s scheduled runs again (ticks while paused are not "missed")'],
  ] as const) {
    jobs.command(verb)
      .description(description)
      .argument('<job>', 'the job\'s name (steward jobs list)')
      .option('--json', 'print the job as JSON')
      .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
          const job = verb === 'pause' ? await service(ctx.db).pause(name, operator()) : await service(ctx.db).resume(name, operator());
          const cron = await followInPgCron(ctx, job.name);
          if (opts.json) return printJson({ ...job, pg_cron: cron ?? null });
          printLine(`${job.name}: ${job.enabled ? 'active' : 'paused'}`);
          if (cron) printLine(`  pg_cron ${cron.cron_job} (job ${String(cron.jobid)}): ${cron.action}`);
        });
      });
  }

  jobs.command('configure')
    .description('change a job\'s schedule, timeout or arguments (validated first; nothing changes on error)')
    .argument('<job>', 'the job\'s name')
    .option('--schedule <schedule>', 'a 5-field cron expression in UTC ("*/30 * * * *"), or "N seconds" (pg_cron 1.5+)')
    .option('--timeout <seconds>', 'give up on a run after this long', positiveInt('timeout'))
    .option('--arguments <json>', 'the target\'s arguments, a JSON object (replaces the current ones)')
    .option('--json', 'print the job as JSON')
    .action(async (name: string, opts: { schedule?: string; timeout?: number; arguments?: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const changes = {
          ...(opts.schedule !== undefined ? { schedule: opts.schedule } : {}),
          ...(opts.timeout !== undefined ? { timeout_seconds: opts.timeout } : {}),
          ...(opts.arguments !== undefined ? { arguments: parseJsonObject(opts.arguments) } : {}),
        };
        const job = await service(ctx.db).configure(name, changes, operator());
        const cron = await followInPgCron(ctx, job.name);
        if (opts.json) return printJson({ ...job, pg_cron: cron ?? null });
        printLine(`${job.name}: ${job.schedule} (UTC), timeout ${job.timeout_seconds} s, arguments ${JSON.stringify(job.arguments)}`);
        if (cron) printLine(`  pg_cron ${cron.cron_job} (job ${String(cron.jobid)}): ${cron.action}`);
      });
    });

  jobs.command('run-now')
    .description('run a job once, now, in this process; waits for it and exits 1 if it failed or was not started')
    .argument('<job>', 'the job\'s name')
    .option('--json', 'print the run as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const job = await service(db).get(name);
        const run = await runJob(db, { job: job.name, runner: 'manual', tick: null, runnerId: `cli pid ${process.pid}` });
        if (!run) throw unknownJob(name);
        if (opts.json) printJson(run);
        else printLine(describeRun(run));
        if (run.status !== 'succeeded') process.exitCode = 1;
      });
    });

  jobs.command('history')
    .description('the run log, newest first: every run from pg_cron, the in-process runner and run-now')
    .option('--job <job>', 'only this job')
    .option('--limit <n>', 'at most this many runs', positiveInt('limit'), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { job?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const runs = await service(db).history({ ...(opts.job !== undefined ? { job: opts.job } : {}), limit: opts.limit });
        if (opts.json) return printJson(runs);
        printTable(runs, ['id', 'job_name', 'runner', 'scheduled_for', 'started_at', 'finished_at', 'status', 'message']);
      });
    });

  jobs.command('sync')
    .description('register the jobs with pg_cron (PostgreSQL with pg_cron only); a second sync changes nothing')
    .option('--dry-run', 'say what would change, change nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        if (!ctx.config.databaseUrl) {
          throw new StewardError('not_found', 'pg_cron is not available: the embedded database (PGlite) has no pg_cron; steward start (or steward jobs start) runs the jobs in-process');
        }
        const report = await syncPgCron(ctx.db, cronConnectorFor(ctx.config.databaseUrl), { dryRun: !!opts.dryRun });
        if (report.changes.some((c) => c.action === 'refused')) process.exitCode = 1;
        if (opts.json) return printJson(report);
        printLine(`pg_cron ${report.pg_cron_version} in database ${report.cron_database}, jobs of database ${report.database}${report.dry_run ? ' (dry run: nothing changed)' : ''}:`);
        printTable(report.changes.map((c) => ({ ...c, state: c.active ? 'active' : 'paused' })), ['job', 'cron_job', 'jobid', 'action', 'state', 'detail']);
      });
    });

  jobs.command('start')
    .description('run the jobs in this process until Ctrl-C (where pg_cron is absent); with several processes, one leads and fires each tick')
    .option('--lease-seconds <n>', 'leader lease length; a dead leader is replaced within it', positiveInt('lease-seconds'), 15)
    .action(async (opts: { leaseSeconds: number }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const pgCron = await detectPgCron(db);
        if (pgCron.available) {
          process.stderr.write(`steward: pg_cron is available in database ${pgCron.cronDatabase}; steward jobs sync lets the database run the jobs (a tick fired by both still runs once)\n`);
        }
        const stopped = stopSignal();
        const scheduler = await startScheduler(db, {
          runner: 'in_process',
          leaseSeconds: opts.leaseSeconds,
          onRun: (run) => printLine(describeRun(run)),
          onError: (error, context) => process.stderr.write(`steward: ${context}: ${error instanceof Error ? error.message : String(error)}\n`),
        });
        printLine(scheduler.description);
        printLine('Ready. Press Ctrl-C to stop.');
        const signal = await stopped;
        printLine(`Stopping (${signal})…`);
        await scheduler.stop();
      });
      printLine('Stopped.');
    });
}

function service(db: Database): SqlJobService {
  return new SqlJobService(serviceAccess(db));
}

function operator(): string {
  return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
}

/** One line per run: when, which job and tick, by whom, the outcome. */
export function describeRun(run: JobRun): string {
  const tick = run.scheduled_for ? ` tick ${run.scheduled_for.toISOString()}` : '';
  return `${run.started_at.toISOString()} ${run.job_name}${tick} [${run.runner}] ${run.status}${run.message ? `: ${run.message}` : ''}`;
}

function parseJsonObject(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new StewardError('invalid_input', `arguments: not JSON (${error instanceof Error ? error.message : String(error)})`, { field: 'arguments' });
  }
}

/**
 * After a change to one job: where the job is already registered with pg_cron, bring its
 * cron entry along (pause/resume → cron.alter_job active). A job never synced is left to
 * `steward jobs sync`. A failure here is a warning: the table is what decides, and
 * begin_job_run refuses a paused job whatever pg_cron holds.
 */
async function followInPgCron(ctx: CommandContext, job: string): Promise<SyncChange | undefined> {
  if (!ctx.config.databaseUrl) return undefined;
  try {
    if (!(await detectPgCron(ctx.db)).available) return undefined;
    const report = await syncPgCron(ctx.db, cronConnectorFor(ctx.config.databaseUrl), { job, onlyRegistered: true });
    return report.changes[0];
  } catch (error) {
    process.stderr.write(`steward: warning: pg_cron not updated (run steward jobs sync): ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
}
