import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { StewardError } from '../errors.ts';
import type { Access } from './access.ts';
import { KIB, jsonObject, limit, notFound, parseInput, riskTier, timestamp, toolSlug, uuid, type RiskTier } from './validation.ts';

export const OUTBOX_STATUSES = ['pending', 'in_progress', 'awaiting_approval', 'success', 'conflict', 'rejected'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** The columns outbox and outbox_dlq share: the envelope as the agent proposed it, and its history. */
interface EnvelopeColumns {
  id: string;
  tenant_id: string;
  tool_slug: string;
  arguments: Record<string, unknown>;
  connected_account_id: string | null;
  risk: RiskTier;
  external_id: string;
  trust_context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  attempts: number;
  last_error: string | null;
  result: unknown;
  created_at: Date;
}

/** A row of `outbox`: an envelope that is queued, running or finished. */
export interface OutboxEnvelope extends EnvelopeColumns {
  status: OutboxStatus;
  next_run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  approved_at: Date | null;
  approved_by: string | null;
  updated_at: Date;
}

/** A row of `outbox_dlq`: a dead-lettered envelope (same id as it had in outbox). */
export interface DeadLetterEnvelope extends EnvelopeColumns {
  status: 'dlq';
  moved_at: Date;
}

/** An envelope wherever it is now: `status` tells the two apart. */
export type Envelope = OutboxEnvelope | DeadLetterEnvelope;

/** What enqueue returns: the envelope, and whether this call created it (false = idempotent repeat). */
export type EnqueueResult = Envelope & { created: boolean };


/**
 * An envelope as a caller submits it. `slug` is the original system's alias of
 * `tool_slug`. external_id is the idempotency key, compared verbatim (not trimmed).
 */
export const enqueueInput = z
  .strictObject({
    tenant_id: uuid,
    tool_slug: toolSlug.optional(),
    slug: toolSlug.optional(),
    arguments: jsonObject(256 * KIB),
    connected_account_id: z.string().trim().min(1).max(255).nullable().optional(),
    risk: riskTier.optional(),
    external_id: z.string().min(1).max(255).optional(),
    trust_context: jsonObject(64 * KIB).default({}),
    metadata: jsonObject(64 * KIB).default({}),
    next_run_at: timestamp.optional(),
    // Who asked, for the audit row (the original's agent/control-plane actor).
    actor_type: z.string().trim().min(1).max(64).default('agent'),
    actor_id: z.string().trim().min(1).max(200).default('control-plane'),
  })
  .superRefine((v, ctx) => {
    if (v.tool_slug === undefined && v.slug === undefined) ctx.addIssue({ code: 'custom', path: ['tool_slug'], message: 'is required' });
    if (v.tool_slug !== undefined && v.slug !== undefined && v.tool_slug !== v.slug) {
      ctx.addIssue({ code: 'custom', path: ['slug'], message: 'differs from tool_slug (give one of them)' });
    }
  })
  .transform(({ slug, tool_slug, ...rest }) => ({ ...rest, tool_slug: (tool_slug ?? slug)! }));
export type EnqueueInput = z.input<typeof enqueueInput>;

// One batch is one transaction and one jsonb parameter; bounded so it stays both.
export const enqueueBatchInput = z.array(enqueueInput).max(1000);

export const listByStatusInput = z.strictObject({ tenant_id: uuid.optional(), status: z.enum(OUTBOX_STATUSES), limit });
export type ListByStatusInput = z.input<typeof listByStatusInput>;
export const listDlqInput = z.strictObject({ tenant_id: uuid.optional(), limit });
export type ListDlqInput = z.input<typeof listDlqInput>;

export interface OutboxService {
  /** Queues one envelope (service role only); a repeated (tenant_id, external_id) returns the existing one. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
  /** Queues many in one transaction, all or nothing; results in input order. */
  enqueueMany(inputs: EnqueueInput[]): Promise<EnqueueResult[]>;
  /** The envelope from outbox, else from outbox_dlq; `not_found` (field `id`) when absent or hidden. */
  get(id: string): Promise<Envelope>;
  /** Envelopes in one status, oldest first; a tenant sees only its own. */
  listByStatus(query: ListByStatusInput): Promise<OutboxEnvelope[]>;
  /** Dead-lettered envelopes, most recently moved first; a tenant sees only its own. */
  listDlq(query?: ListDlqInput): Promise<DeadLetterEnvelope[]>;
}

const COMMON = 'id, tenant_id, tool_slug, arguments, connected_account_id, risk, external_id, trust_context, metadata, status, attempts, last_error, result, created_at';
const OUTBOX_ONLY = 'next_run_at, locked_by, locked_until, approved_at, approved_by, updated_at';
const OUTBOX_COLUMNS = `${COMMON}, ${OUTBOX_ONLY}`;
const DLQ_COLUMNS = `${COMMON}, moved_at`;

/**
 * Rows matching `where` (a constant SQL fragment; values stay bound parameters) in outbox
 * and in outbox_dlq, in one shape (each side padded with the other's columns), so that
 * one statement, hence one snapshot, sees an envelope wherever it is. Callers order by
 * `moved_at nulls first` to prefer the outbox row.
 */
function eitherTable(where: string): string {
  return `select ${OUTBOX_COLUMNS}, null::timestamptz as moved_at from outbox where ${where}
    union all
    select ${COMMON}, null::timestamptz, null::text, null::timestamptz, null::timestamptz, null::text, null::timestamptz, moved_at
      from outbox_dlq where ${where}`;
}
type EitherRow = Omit<OutboxEnvelope, 'status'> & { status: OutboxStatus | 'dlq'; moved_at: Date | null };

function toEnvelope(row: EitherRow): Envelope {
  const { next_run_at, locked_by, locked_until, approved_at, approved_by, updated_at, moved_at, status, ...common } = row;
  if (status === 'dlq') return { ...common, status, moved_at: moved_at! };
  return { ...common, status, next_run_at, locked_by, locked_until, approved_at, approved_by, updated_at };
}

type ParsedEnvelope = z.output<typeof enqueueInput>;
// steward.enqueue_envelopes answers each key once or twice (outbox row first); a key found
// nowhere (unknown tenant) comes back once with every envelope column null.
type EnqueuedRow = { ord: number; created: boolean; tenant_exists: boolean } & (EitherRow | { [K in keyof EitherRow]: null });
const isEnvelopeRow = (row: EitherRow | { id: null }): row is EitherRow => row.id !== null;

/** serialization_failure: the function saw the same key moved or removed meanwhile; run it again. */
const isEnqueueRace = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === '40001';
const MAX_ATTEMPTS = 3;

export class SqlOutboxService implements OutboxService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const envelope = parseInput(enqueueInput, input);
    const [result] = await this.#enqueue([envelope], (_ord, field) => field);
    return result!;
  }

  async enqueueMany(inputs: EnqueueInput[]): Promise<EnqueueResult[]> {
    const envelopes = parseInput(enqueueBatchInput, inputs, 'inputs');
    if (envelopes.length === 0) return [];
    return this.#enqueue(envelopes, (ord, field) => `${ord}.${field}`);
  }

  async #enqueue(envelopes: ParsedEnvelope[], fieldName: (ord: number, field: string) => string): Promise<EnqueueResult[]> {
    // Generated here, once: the key must be known to read the envelope back, and a
    // retry below must reuse it.
    const keyed = envelopes.map((e, ord) => ({ ...e, ord, external_id: e.external_id ?? randomUUID() }));
    for (let attempt = 1; ; attempt++) {
      try {
        // Inside the transaction: an unknown tenant anywhere in a batch undoes all of it.
        return await this.#access.run(async (tx) => {
          const rows = (await tx.query<EnqueuedRow>('select * from steward.enqueue_envelopes($1::jsonb)', [JSON.stringify(keyed)])).rows;
          return keyed.map((e) => {
            const row = rows.find((r) => r.ord === e.ord); // the outbox row first, if both
            if (!row || !isEnvelopeRow(row)) throw notFound('tenant', fieldName(e.ord, 'tenant_id'), e.tenant_id);
            const { ord, created, tenant_exists, ...envelope } = row;
            return { ...toEnvelope(envelope), created };
          });
        });
      } catch (error) {
        if (!isEnqueueRace(error)) throw error;
        if (attempt === MAX_ATTEMPTS) {
          throw new StewardError('conflict', 'the envelope kept changing while it was enqueued; try again', { field: 'external_id' });
        }
      }
    }
  }

  async get(id: string): Promise<Envelope> {
    const envelopeId = parseInput(uuid, id, 'id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<EitherRow>(`${eitherTable('id = $1')} order by moved_at nulls first limit 1`, [envelopeId])).rows[0],
    );
    if (!row) throw notFound('envelope', 'id', envelopeId);
    return toEnvelope(row);
  }

  async listByStatus(query: ListByStatusInput): Promise<OutboxEnvelope[]> {
    const q = parseInput(listByStatusInput, query);
    return this.#access.run(async (tx) =>
      (
        await tx.query<OutboxEnvelope>(
          `select ${OUTBOX_COLUMNS} from outbox
            where status = $1 and ($2::uuid is null or tenant_id = $2)
            order by created_at, id limit $3`,
          [q.status, q.tenant_id ?? null, q.limit],
        )
      ).rows,
    );
  }

  async listDlq(query: ListDlqInput = {}): Promise<DeadLetterEnvelope[]> {
    const q = parseInput(listDlqInput, query);
    return this.#access.run(async (tx) =>
      (
        await tx.query<DeadLetterEnvelope>(
          `select ${DLQ_COLUMNS} from outbox_dlq
            where ($1::uuid is null or tenant_id = $1)
            order by moved_at desc, id limit $2`,
          [q.tenant_id ?? null, q.limit],
        )
      ).rows,
    );
  }
}
