// What becomes of a claimed envelope: its guardrail decision, then (if it ran) how the
// execution ended, turned into the completion the database applies. Pure.
import type { GuardrailDecision } from './guardrails.ts';
import { nextAttempt, type RetryPolicy } from './retry-policy.ts';
import type { TransitionName } from './envelope-status.ts';

export type ExecutionEnd =
  | { kind: 'success'; result: unknown }
  | { kind: 'retryable' | 'permanent' | 'conflict' | 'account_unusable'; error: string; retryAfterMs?: number };

export interface Completion {
  id: string;
  to: 'success' | 'conflict' | 'pending' | 'awaiting_approval' | 'rejected' | 'dlq';
  transition: TransitionName;
  /** The executor ran: the attempt counts. */
  attempted: boolean;
  error?: string;
  result?: unknown;
  next_run_at?: string;
  latency_ms?: number;
  decision?: unknown;
}

/** The completion for a guardrail decision that stops the envelope before it runs. */
export function completionForDecision(id: string, decision: Exclude<GuardrailDecision, { outcome: 'execute' }>): Completion {
  const base = { id, attempted: false, decision: { guardrail: decision.guardrail, reason: decision.reason, checks: decision.checks } };
  switch (decision.outcome) {
    case 'defer':
      return { ...base, to: 'pending', transition: 'defer', next_run_at: decision.until.toISOString() };
    case 'reject':
      return { ...base, to: 'rejected', transition: 'reject', error: decision.reason };
    case 'await_approval':
      // The reason goes to last_error too: what an approver reads in `approvals list`.
      return { ...base, to: 'awaiting_approval', transition: 'await_approval', error: decision.reason };
  }
}

/**
 * The completion for an execution. `attempts` is the envelope's count before this run;
 * a retryable failure retries with the tier's backoff (Retry-After wins) until the tier's
 * attempts are used up, then dead-letters, as a permanent failure does at once. An
 * unusable connected account holds the envelope for a person (awaiting_approval, the
 * reason in last_error): retrying cannot repair an account, and the DLQ is for failures.
 */
export function completionForExecution(input: {
  id: string;
  attempts: number;
  policy: RetryPolicy;
  end: ExecutionEnd;
  now: Date;
  random: () => number;
  latencyMs: number;
}): Completion {
  const { id, end, latencyMs } = input;
  const base = { id, attempted: true, latency_ms: Math.round(latencyMs * 1000) / 1000 };
  switch (end.kind) {
    case 'success':
      return { ...base, to: 'success', transition: 'succeed', result: end.result };
    case 'conflict':
      return { ...base, to: 'conflict', transition: 'conflict', error: end.error };
    case 'account_unusable':
      return { ...base, to: 'awaiting_approval', transition: 'await_approval', error: end.error };
    case 'permanent':
      return { ...base, to: 'dlq', transition: 'dead_letter', error: end.error };
    case 'retryable': {
      const next = nextAttempt({ attempts: input.attempts + 1, policy: input.policy, random: input.random, ...(end.retryAfterMs === undefined ? {} : { retryAfterMs: end.retryAfterMs }) });
      if (next.kind === 'exhausted') {
        return { ...base, to: 'dlq', transition: 'dead_letter', error: `${end.error} (attempts exhausted: ${input.attempts + 1} of ${input.policy.maxAttempts})` };
      }
      return { ...base, to: 'pending', transition: 'retry', error: end.error, next_run_at: new Date(input.now.getTime() + next.delayMs).toISOString() };
    }
  }
}
