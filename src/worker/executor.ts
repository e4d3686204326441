import type { OutboxEnvelope } from '../services/outbox-service.ts';

/**
 * What runs an envelope's action (the sandbox here, Composio in its own module). The
 * worker passes the envelope's `external_id` as `idempotencyKey`: execution is
 * at-least-once (a worker may die after the provider acted and before it recorded so),
 * and the key lets a provider drop the repeat.
 */
export interface Executor {
  readonly name: string;
  execute(envelope: OutboxEnvelope, context: ExecutionContext): Promise<ExecutionResult>;
}

export interface ExecutionContext {
  idempotencyKey: string;
  /** Aborted when the execution timeout passes or the worker stops. */
  signal: AbortSignal;
}

export interface ExecutionResult {
  /** Stored in the envelope's `result`. */
  result: unknown;
}

/**
 * How an execution failed, as the executor classifies it:
 *   retryable        — try again later (429, 5xx, timeouts), honouring `retryAfterMs`;
 *   permanent        — it will fail the same way again (4xx, validation): dead-letter now;
 *   conflict         — the provider answered 409: terminal `conflict`, no retry, no DLQ;
 *   account_unusable — the connected account cannot act (expired, revoked, disabled, not
 *                      linked yet): no retry can fix that and it is not the envelope's
 *                      fault, so it waits in `awaiting_approval` for a person to repair
 *                      the account and approve it again (docs/implementation/composio-tooling.md).
 * Anything else an executor throws is treated as retryable.
 */
export class ExecutionError extends Error {
  override readonly name = 'ExecutionError';
  readonly kind: 'retryable' | 'permanent' | 'conflict' | 'account_unusable';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ExecutionError['kind'], message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
