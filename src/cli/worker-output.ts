import type { Database } from '../db/database.ts';
import type { Completion } from '../domain/envelope-outcome.ts';
import { logOutcome } from '../observability/outbox-log.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import type { Executor } from '../worker/executor.ts';
import { OutboxWorker, type OutboxWorkerOptions } from '../worker/outbox-worker.ts';
import { createWorkerExecutor } from './composio.ts';
import { printLine } from './output.ts';
import { logError, type ProcessTelemetry } from './telemetry.ts';

/** One line per recorded outcome, for `outbox start` and `start`. */
export function describeCompletion(envelope: OutboxEnvelope, completion: Completion): string {
  const detail = completion.error ?? (completion.next_run_at ? `until ${completion.next_run_at}` : '');
  return `${envelope.id} ${envelope.tool_slug} (tenant ${envelope.tenant_id}): ${completion.transition} → ${completion.to}${detail ? `: ${detail}` : ''}`;
}

/**
 * The worker the CLI runs (`outbox start`, `start`): Composio or the sandbox (cli/composio.ts), each outcome
 * counted in the metrics, printed (after `indent`) for people and logged as JSON for
 * machines, background errors logged.
 */
export function createCliWorker(db: Database, telemetry: Pick<ProcessTelemetry, 'metrics' | 'logger'>, options: Omit<OutboxWorkerOptions, 'onCompleted' | 'onError'> & { indent?: string; executor?: Executor } = {}): OutboxWorker {
  const { indent = '', executor = createWorkerExecutor(db).executor, ...workerOptions } = options;
  const { metrics } = telemetry;
  // Becomes the worker's child logger (worker_id on every line) once the worker exists;
  // the callbacks run only after that.
  let logger = telemetry.logger;
  const worker = new OutboxWorker(db, executor, {
    ...workerOptions,
    onCompleted: (envelope, completion, applied) => {
      metrics.observe(envelope, completion, applied);
      logOutcome(logger, envelope, completion, applied);
      printLine(`${indent}${describeCompletion(envelope, completion)}`);
    },
    onError: (error, context) => logError(logger, 'worker')(error, context),
    // Each one is an execution that may have happened without being recorded (at-least-once).
    onRecovered: (recovered) => {
      logger.warn({ envelope_ids: recovered.map((r) => r.id), statuses: recovered.map((r) => r.status) },
        `${recovered.length} envelope(s) taken back from expired leases`);
      printLine(`${indent}recovered ${recovered.length} envelope(s) from expired leases: ${recovered.map((r) => `${r.id} → ${r.status}`).join(', ')}`);
    },
  });
  logger = logger.child({ worker_id: worker.id });
  metrics.track(worker);
  return worker;
}
