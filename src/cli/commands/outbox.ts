import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { StewardError } from '../../errors.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlOutboxOperations } from '../../services/outbox-operations.ts';
import { SqlOutboxService, type EnqueueInput } from '../../services/outbox-service.ts';
import { createWorkerExecutor } from '../composio.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printLine, printTable } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';
import { addTelemetryOptions, createTelemetry, describeOtlp, serveTelemetry, type TelemetryOptions } from '../telemetry.ts';
import { createCliWorker } from '../worker-output.ts';

export function registerOutboxCommands(program: Command): void {
  const outbox = program.command('outbox').description('the outbox of proposed actions and its worker');

  addTelemetryOptions(outbox.command('start')
    .description('run the worker until Ctrl-C, or one batch with --once (Composio with COMPOSIO_API_KEY, else the sandbox)')
    .option('--once', 'claim one batch, run it to the end, and exit')
    .option('--concurrency <n>', 'envelopes running at once', positiveInt('concurrency'), 8)
    .option('--batch <n>', 'envelopes claimed per round trip', positiveInt('batch'), 10)
    .option('--lease-seconds <n>', 'lease length; a dead worker\'s envelopes return after it', positiveInt('lease-seconds'), 30))
    .action(async (opts: { once?: boolean; concurrency: number; batch: number; leaseSeconds: number } & TelemetryOptions, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db, config }) => {
        const telemetry = createTelemetry(db, config);
        try {
          const chosen = createWorkerExecutor(db);
          const worker = createCliWorker(db, telemetry, { concurrency: opts.concurrency, batchSize: opts.batch, leaseSeconds: opts.leaseSeconds, executor: chosen.executor });
          if (opts.once) {
            // No /metrics for one batch: the process is gone before a scraper would come.
            // OTLP, being pushed, does see it: close() below exports on the way out.
            const summary = await worker.runOnce();
            printLine(`claimed=${summary.claimed} completed=${summary.completed}`);
            return;
          }
          // Before stopSignal(): a busy port must end the command, not leave it held open.
          const server = await serveTelemetry(db, telemetry, () => worker.isAlive, opts);
          try {
            const stopped = stopSignal();
            worker.start();
            telemetry.logger.info({ worker_id: worker.id, concurrency: opts.concurrency, batch: opts.batch }, 'outbox worker started');
            printLine(server ? `metrics: ${server.url}/metrics, health: ${server.url}/healthz` : 'metrics: off (--no-metrics)');
            const otlp = describeOtlp(telemetry);
            if (otlp) printLine(otlp);
            printLine(`worker ${worker.id} running (executor ${chosen.description}, concurrency ${opts.concurrency}, batch ${opts.batch}). Press Ctrl-C to stop.`);
            const signal = await stopped;
            printLine(`Stopping (${signal}); letting ${worker.runningCount} running envelope(s) finish…`);
            await worker.stop();
            telemetry.logger.info({ worker_id: worker.id, signal }, 'outbox worker stopped');
          } finally {
            await server?.close();
          }
        } finally {
          await telemetry.close();
        }
      });
    });

  outbox.command('status')
    .description('queue depth by status, DLQ size, oldest due envelope; exits 1 when the DLQ exceeds the threshold')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--dlq-threshold <n>', 'DLQ size allowed before exiting 1 (default: STEWARD_DLQ_THRESHOLD, else 0)')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; dlqThreshold?: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db, config }) => {
        const threshold = opts.dlqThreshold === undefined ? config.dlqThreshold : Number(opts.dlqThreshold);
        if (!Number.isInteger(threshold) || threshold < 0) {
          throw new StewardError('invalid_input', 'dlq-threshold: must be a whole number ≥ 0', { field: 'dlq-threshold' });
        }
        const stats = await new SqlOutboxOperations(serviceAccess(db)).stats(opts.tenant);
        const oldestAgeSeconds = stats.oldest_due_at ? Math.round((Date.now() - stats.oldest_due_at.getTime()) / 1000) : null;
        const breached = stats.dlq > threshold;
        if (opts.json) printJson({ ...stats, oldest_due_age_seconds: oldestAgeSeconds, dlq_threshold: threshold, dlq_breached: breached });
        else {
          printLine(Object.entries(stats.by_status).map(([s, n]) => `${s}=${n}`).join(' ') + ` dlq=${stats.dlq}`);
          printLine(`oldest due: ${oldestAgeSeconds === null ? 'none' : `${oldestAgeSeconds} s ago`}; DLQ threshold ${threshold}${breached ? ' EXCEEDED' : ''}`);
        }
        if (breached) process.exitCode = 1;
      });
    });

  outbox.command('drain')
    .description('move dead-lettered envelopes back to pending (attempts reset)')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--limit <n>', 'at most this many', positiveInt('limit'), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const ids = await new SqlOutboxOperations(serviceAccess(db)).requeueDeadLetters({ ...(opts.tenant ? { tenant_id: opts.tenant } : {}), limit: opts.limit, actor: operator() });
        if (opts.json) return printJson({ drained: ids.length, ids });
        printLine(`drained=${ids.length}`);
      });
    });

  outbox.command('retry-dlq')
    .description('move one dead-lettered envelope back to pending after remediation')
    .requiredOption('--tenant <uuid>', 'the envelope\'s tenant')
    .requiredOption('--envelope <uuid>', 'the envelope id')
    .action(async (opts: { tenant: string; envelope: string }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        await new SqlOutboxOperations(serviceAccess(db)).requeueDeadLetters({ tenant_id: opts.tenant, envelope_id: opts.envelope, limit: 1, actor: operator() });
        printLine(`requeued ${opts.envelope}`);
      });
    });

  outbox.command('enqueue')
    .description('enqueue envelopes from JSON (an object or an array) given inline, in a file, or on stdin (-)')
    .argument('<json|@file|->', 'the envelope(s): inline JSON, @path/to/file.json, or - for stdin')
    .option('--json', 'print the envelopes as JSON')
    .action(async (source: string, opts: { json?: boolean }, cmd: Command) => {
      const inputs = await readEnvelopes(source);
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const results = await new SqlOutboxService(serviceAccess(db)).enqueueMany(inputs);
        if (opts.json) return printJson(results);
        printTable(results.map((r) => ({ ...r, created: r.created ? 'created' : 'existing' })), ['id', 'tenant_id', 'tool_slug', 'status', 'external_id', 'created']);
      });
    });
}

/** Who the audit log names for an operator's action. */
function operator(): string {
  return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
}

async function readEnvelopes(source: string): Promise<EnqueueInput[]> {
  let text: string;
  try {
    text = source === '-' ? await readStdin() : source.startsWith('@') ? await readFile(source.slice(1), 'utf8') : source;
  } catch (error) {
    throw new StewardError('invalid_input', `envelopes: cannot read ${source.slice(1)}: ${(error as Error).message}`, { field: 'envelopes' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StewardError('invalid_input', `envelopes: not valid JSON (${(error as Error).message})`, { field: 'envelopes' });
  }
  return (Array.isArray(parsed) ? parsed : [parsed]) as EnqueueInput[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
