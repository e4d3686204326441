// The worker runs one executor: this one sends Steward's own system envelopes (tool slug
// `steward.*`, e.g. `steward.catalog.refresh`) to in-process handlers, and every other
// envelope to the executor it wraps (the sandbox, or Composio). System work thereby gets
// the outbox's leases, retries, DLQ and audit without a second worker.
import type { OutboxEnvelope } from '../../services/outbox-service.ts';
import { ExecutionError, type ExecutionContext, type ExecutionResult, type Executor } from '../executor.ts';

export const SYSTEM_TOOL_PREFIX = 'steward.';

/** Runs one system tool. Throw ExecutionError to classify a failure, as any executor does. */
export type SystemHandler = (envelope: OutboxEnvelope, context: ExecutionContext) => Promise<ExecutionResult>;

export function isSystemTool(toolSlug: string): boolean {
  return toolSlug.startsWith(SYSTEM_TOOL_PREFIX);
}

export class RoutingExecutor implements Executor {
  readonly name: string;
  readonly #fallback: Executor;
  readonly #handlers: ReadonlyMap<string, SystemHandler>;

  constructor(fallback: Executor, handlers: Readonly<Record<string, SystemHandler>>) {
    for (const slug of Object.keys(handlers)) {
      if (!isSystemTool(slug)) throw new TypeError(`system handler ${slug} must be named ${SYSTEM_TOOL_PREFIX}*`);
    }
    this.#fallback = fallback;
    this.#handlers = new Map(Object.entries(handlers));
    // The wrapped executor's name, so logs and metrics keep saying which provider runs actions.
    this.name = fallback.name;
  }

  execute(envelope: OutboxEnvelope, context: ExecutionContext): Promise<ExecutionResult> {
    if (!isSystemTool(envelope.tool_slug)) return this.#fallback.execute(envelope, context);
    const handler = this.#handlers.get(envelope.tool_slug);
    if (!handler) {
      return Promise.reject(new ExecutionError('permanent', `no handler for system tool ${envelope.tool_slug}`, { status: 404 }));
    }
    return handler(envelope, context);
  }
}
