// The outbox state machine of DESIGN.md §5, as data. The SQL transition functions and
// the worker both follow this table; tests hold it to the design, so a new edge is a
// deliberate change here rather than an accident in one UPDATE statement.

/**
 * Every status an envelope can have. The first six are `outbox.status`; `dlq` is the
 * status of a row in `outbox_dlq`, where a dead-lettered envelope lives instead.
 * The names are the original system's where it had one, so its data carries over.
 */
export const ENVELOPE_STATUSES = ['pending', 'in_progress', 'awaiting_approval', 'success', 'conflict', 'rejected', 'dlq'] as const;
export type EnvelopeStatus = (typeof ENVELOPE_STATUSES)[number];

/**
 * Statuses nothing moves out of by itself. `dlq` is terminal for the worker: only an
 * operator's requeue (drain / retry-dlq) brings such an envelope back.
 */
export const TERMINAL_STATUSES = ['success', 'conflict', 'rejected', 'dlq'] as const satisfies readonly EnvelopeStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export type TransitionName =
  | 'claim'
  | 'defer'
  | 'reject'
  | 'await_approval'
  | 'approve'
  | 'deny'
  | 'succeed'
  | 'conflict'
  | 'retry'
  | 'dead_letter'
  | 'abandon'
  | 'release'
  | 'requeue'
  | 'flag_for_approval';

export interface Transition {
  readonly name: TransitionName;
  readonly from: EnvelopeStatus;
  readonly to: EnvelopeStatus;
  /** What causes it, for docs and audit readers. */
  readonly description: string;
}

// Guardrails run after the claim, while the worker holds the lease: the schema ties a
// lease to `in_progress` (outbox's check constraint), and the guardrail outcome must be
// written by the worker that evaluated it. So defer, reject and await_approval all
// leave `in_progress`, as do the executor's outcomes. Several names share one
// (from, to) pair: the name, not the pair, is what the audit row records.
export const TRANSITIONS: readonly Transition[] = Object.freeze([
  { name: 'claim', from: 'pending', to: 'in_progress', description: 'a worker takes a due envelope and holds its lease' },
  { name: 'defer', from: 'in_progress', to: 'pending', description: "quiet hours: next_run_at moves to the window's end" },
  { name: 'reject', from: 'in_progress', to: 'rejected', description: 'a scope the tool needs is not granted (no retry)' },
  { name: 'await_approval', from: 'in_progress', to: 'awaiting_approval', description: 'trust below threshold, evidence required and missing, or the connected account cannot act' },
  { name: 'approve', from: 'awaiting_approval', to: 'pending', description: 'a person approves; the trust and evidence checks are not asked again' },
  // The approvals verb is "reject"; it gets its own name so that the audit trail tells
  // a person's refusal apart from a guardrail's.
  { name: 'deny', from: 'awaiting_approval', to: 'rejected', description: 'a person rejects the envelope' },
  { name: 'succeed', from: 'in_progress', to: 'success', description: 'the executor succeeded' },
  { name: 'conflict', from: 'in_progress', to: 'conflict', description: 'the provider answered HTTP 409 (no retry, no DLQ, as the original)' },
  { name: 'retry', from: 'in_progress', to: 'pending', description: "a retryable failure: attempts + 1, next_run_at from the risk tier's backoff" },
  { name: 'dead_letter', from: 'in_progress', to: 'dlq', description: 'a permanent failure or attempts exhausted: moved to outbox_dlq' },
  { name: 'abandon', from: 'in_progress', to: 'pending', description: 'the lease expired (its worker died); claimable again' },
  { name: 'release', from: 'in_progress', to: 'pending', description: 'a stopping worker hands back an envelope it claimed but never started (attempts unchanged)' },
  { name: 'requeue', from: 'dlq', to: 'pending', description: 'drain / retry-dlq: back to pending with attempts reset' },
  // Not the worker's: the drift monitor holds envelopes it has not claimed yet
  // (steward.flag_envelopes_for_approval, 007_composio_catalog).
  { name: 'flag_for_approval', from: 'pending', to: 'awaiting_approval', description: "a breaking change to its tool's schema, or the tool's removal (drift monitor): a person decides, any earlier approval cleared" },
] as const satisfies readonly Transition[]);

export function isEnvelopeStatus(value: unknown): value is EnvelopeStatus {
  return typeof value === 'string' && (ENVELOPE_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: EnvelopeStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly EnvelopeStatus[]).includes(status);
}

/** Whether any transition leads from `from` to `to` (a status never "moves" to itself). */
export function canTransition(from: EnvelopeStatus, to: EnvelopeStatus): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to);
}

/** The transitions that leave `from`, in table order. */
export function transitionsFrom(from: EnvelopeStatus): Transition[] {
  return TRANSITIONS.filter((t) => t.from === from);
}

/** The one transition of this name. */
export function transitionNamed(name: TransitionName): Transition {
  const found = TRANSITIONS.find((t) => t.name === name);
  // Unreachable while TransitionName and TRANSITIONS agree; the tests check that they do.
  if (!found) throw new Error(`no transition named ${name}`);
  return found;
}
