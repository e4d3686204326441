import type { Completion } from '../domain/envelope-outcome.ts';
import type { OutboxEnvelope } from '../services/outbox-service.ts';

/** One line per recorded outcome, for `outbox start` and `start`. */
export function describeCompletion(envelope: OutboxEnvelope, completion: Completion): string {
  const detail = completion.error ?? (completion.next_run_at ? `until ${completion.next_run_at}` : '');
  return `${envelope.id} ${envelope.tool_slug} (tenant ${envelope.tenant_id}): ${completion.transition} → ${completion.to}${detail ? `: ${detail}` : ''}`;
}
