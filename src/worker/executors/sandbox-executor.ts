import type { OutboxEnvelope } from '../../services/outbox-service.ts';
import { ExecutionError, type ExecutionContext, type ExecutionResult, type Executor } from '../executor.ts';

type Simulation = (args: Record<string, unknown>, key: string) => unknown;

const requireString = (args: Record<string, unknown>, field: string): string => {
  const value = args[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ExecutionError('permanent', `argument ${field} is required (a non-empty string)`, { status: 400 });
  }
  return value;
};

// The demo seed's tools, answered the way their providers would, without a network.
const TOOLS: Record<string, Simulation> = {
  'GMAIL__drafts.create': (args, key) => ({ draft_id: `draft-${key}`, to: requireString(args, 'to'), subject: requireString(args, 'subject') }),
  'GMAIL__messages.send': (args, key) => ({ message_id: `msg-${key}`, to: requireString(args, 'to'), subject: requireString(args, 'subject') }),
  'SLACK__chat.postMessage': (args, key) => ({ ok: true, channel: requireString(args, 'channel'), ts: `sandbox.${key}` }),
  'HUBSPOT__deals.update': (args) => ({ id: requireString(args, 'deal_id'), updated: true }),
};

/**
 * Runs the demo tools in-process, so `npm start` shows a working queue with no external
 * account. Deterministic: the result derives from the idempotency key. An unknown tool
 * or a missing argument is a permanent failure, as a provider's 4xx would be.
 */
export class SandboxExecutor implements Executor {
  readonly name = 'sandbox';

  execute(envelope: OutboxEnvelope, context: ExecutionContext): Promise<ExecutionResult> {
    context.signal.throwIfAborted();
    const simulate = TOOLS[envelope.tool_slug];
    if (!simulate) {
      return Promise.reject(new ExecutionError('permanent', `the sandbox has no tool ${envelope.tool_slug}`, { status: 404 }));
    }
    try {
      return Promise.resolve({ result: simulate(envelope.arguments, context.idempotencyKey) });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
