import type { Level } from 'pino';
import type { Completion } from '../domain/envelope-outcome.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';
import type { Logger } from './logger.ts';

// One structured line per outcome the worker recorded: the same facts as the audit row
// (transition, from, to, attempt, latency, error), keyed by tenant and envelope so one
// envelope's history can be followed across workers. Never the arguments or the result:
// they are the tenant's data (message bodies, addresses), not operational facts.

/** What the database answered for a completion (outbox-queries' CompletionApplied). */
export interface AppliedOutcome {
  applied: boolean;
  status: string;
}

/** The log record of one outcome. `attempt` counts executions after it, as the audit row does. */
export function outcomeRecord(envelope: Pick<OutboxEnvelope, 'id' | 'tenant_id' | 'tool_slug' | 'status' | 'attempts'>, completion: Completion): Record<string, unknown> {
  const guardrail = (completion.decision as { guardrail?: unknown } | undefined)?.guardrail;
  return {
    tenant_id: envelope.tenant_id,
    envelope_id: envelope.id,
    tool_slug: envelope.tool_slug,
    transition: completion.transition,
    from: envelope.status,
    to: completion.to,
    attempt: envelope.attempts + (completion.attempted ? 1 : 0),
    ...(completion.latency_ms === undefined ? {} : { latency_ms: completion.latency_ms }),
    ...(completion.error === undefined ? {} : { error: completion.error }),
    ...(completion.next_run_at === undefined ? {} : { next_run_at: completion.next_run_at }),
    ...(typeof guardrail === 'string' ? { guardrail } : {}),
  };
}

/**
 * The level says whether someone should look: a dead letter needs a person (runbook §2),
 * a retry, conflict or scope reject is worth noticing, the rest is the queue working.
 */
export function outcomeLevel(completion: Pick<Completion, 'transition'>): Level {
  switch (completion.transition) {
    case 'dead_letter':
      return 'error';
    case 'retry':
    case 'conflict':
    case 'reject':
      return 'warn';
    default:
      return 'info';
  }
}

export function logOutcome(logger: Logger, envelope: OutboxEnvelope, completion: Completion, applied: AppliedOutcome = { applied: true, status: completion.to }): void {
  const record = outcomeRecord(envelope, completion);
  if (!applied.applied) {
    // The lease was lost (another worker recovered the envelope): nothing was recorded,
    // the outcome will be the recovering worker's. Say so, once, as a warning.
    logger.warn({ ...record, applied: false, status: applied.status }, 'outbox outcome refused: lease lost');
    return;
  }
  logger[outcomeLevel(completion)](record, 'outbox outcome');
}
