import type { OutboxEnvelope } from '../../src/services/outbox-service.ts';
import type { ExecutionContext, ExecutionResult, Executor } from '../../src/worker/executor.ts';

/**
 * An executor whose behaviour a test scripts per call: `script(envelope, call)` returns
 * a result or throws (an ExecutionError to classify it). It records every call, and the
 * highest number of envelopes of one tenant it ever ran at once.
 */
export class ScriptedExecutor implements Executor {
  readonly name = 'scripted';
  readonly calls: { id: string; tenant_id: string; idempotencyKey: string }[] = [];
  maxConcurrentPerTenant = 0;
  readonly #running = new Map<string, number>();
  readonly #script: (envelope: OutboxEnvelope, call: number, context: ExecutionContext) => unknown;

  constructor(script: (envelope: OutboxEnvelope, call: number, context: ExecutionContext) => unknown) {
    this.#script = script;
  }

  async execute(envelope: OutboxEnvelope, context: ExecutionContext): Promise<ExecutionResult> {
    const call = this.calls.filter((c) => c.id === envelope.id).length + 1;
    this.calls.push({ id: envelope.id, tenant_id: envelope.tenant_id, idempotencyKey: context.idempotencyKey });
    const now = (this.#running.get(envelope.tenant_id) ?? 0) + 1;
    this.#running.set(envelope.tenant_id, now);
    this.maxConcurrentPerTenant = Math.max(this.maxConcurrentPerTenant, now);
    try {
      return { result: await this.#script(envelope, call, context) };
    } finally {
      this.#running.set(envelope.tenant_id, (this.#running.get(envelope.tenant_id) ?? 1) - 1);
    }
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts (as a real HTTP call would). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    }, { once: true });
  });
}
