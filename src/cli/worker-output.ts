import type { Database } from '../db/database.ts';
import type { Completion } from '../domain/envelope-outcome.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import { SandboxExecutor } from '../worker/executors/sandbox-executor.ts';
import type { OutboxMetrics } from '../worker/outbox-metrics.ts';
import { OutboxWorker, type OutboxWorkerOptions } from '../worker/outbox-worker.ts';
import { printLine } from './output.ts';
import { logError } from './telemetry.ts';

/** One line per recorded outcome, for `outbox start` and `start`. */
export function describeCompletion(envelope: OutboxEnvelope, completion: Completion): string {
  const detail = completion.error ?? (completion.next_run_at ? `until ${completion.next_run_at}` : '');
  return `${envelope.id} ${envelope.tool_slug} (tenant ${envelope.tenant_id}): ${completion.transition} → ${completion.to}${detail ? `: ${detail}` : ''}`;
}

/**
 * The worker the CLI runs (`outbox start`, `start`): the sandbox executor, each outcome
 * counted in `metrics` and printed (after `indent`), background errors on stderr.
 */
export function createCliWorker(db: Database, metrics: OutboxMetrics, options: Omit<OutboxWorkerOptions, 'onCompleted' | 'onError'> & { indent?: string } = {}): OutboxWorker {
  const { indent = '', ...workerOptions } = options;
  const worker = new OutboxWorker(db, new SandboxExecutor(), {
    ...workerOptions,
    onCompleted: (envelope, completion, applied) => {
      metrics.observe(envelope, completion, applied);
      printLine(`${indent}${describeCompletion(envelope, completion)}`);
    },
    onError: logError('worker'),
  });
  metrics.track(worker);
  return worker;
}
