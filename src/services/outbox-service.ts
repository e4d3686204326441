import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Transaction } from '../db/types.ts';
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

// Statement 1: insert what is new. Rows of unknown tenants and keys already dead-lettered
// are skipped (statement 2 tells them apart); keys already in outbox are skipped by ON
// CONFLICT, which also waits out a concurrent insert of the same key. Sorted by key so
// concurrent batches take their locks in one order. A batch naming a key twice creates
// it once, for its first occurrence.
const INSERT_NEW = `
  with input as (
    select * from jsonb_to_recordset($1::jsonb) as i(
      ord int, tenant_id uuid, tool_slug text, arguments jsonb, connected_account_id text, risk text,
      external_id text, trust_context jsonb, metadata jsonb, next_run_at timestamptz)
  ), created as (
    insert into outbox (tenant_id, tool_slug, arguments, connected_account_id, risk, external_id,
                        trust_context, metadata, next_run_at)
    select i.tenant_id, i.tool_slug, i.arguments, i.connected_account_id,
           -- the catalog entry the catalog service also calls current: the last updated
           coalesce(i.risk, (select c.risk from tool_catalog c
                              where c.tenant_id = i.tenant_id and c.tool_slug = i.tool_slug
                              order by c.updated_at desc, c.id desc limit 1), 'medium'),
           i.external_id, i.trust_context, i.metadata, coalesce(i.next_run_at, now())
      from input i
     where exists (select from tenants t where t.id = i.tenant_id)
       and not exists (select from outbox_dlq d where d.tenant_id = i.tenant_id and d.external_id = i.external_id)
     order by i.tenant_id, i.external_id, i.ord
    on conflict (tenant_id, external_id) do nothing
    returning id, tenant_id, external_id
  )
  select distinct on (c.id) i.ord, c.id
    from created c join input i on i.tenant_id = c.tenant_id and i.external_id = c.external_id
   order by c.id, i.ord`;

// Statement 2, with a fresh snapshot (read committed): audit what statement 1 created,
// and read every key back from wherever it now is, including rows that concurrent
// transactions committed meanwhile. Audit rows go in tenant order: the chain trigger
// takes a per-tenant lock, and one order everywhere cannot deadlock.
const AUDIT_AND_READ_BACK = `
  with keys as (
    select * from jsonb_to_recordset($1::jsonb) as k(
      ord int, tenant_id uuid, external_id text, created_id uuid, actor_type text, actor_id text)
  ), audited as (
    insert into audit_log (tenant_id, actor_type, actor_id, category, payload)
    select o.tenant_id, k.actor_type, k.actor_id, 'outbox',
           jsonb_build_object('envelope_id', o.id, 'tool_slug', o.tool_slug, 'transition', 'enqueue', 'from', null,
                              'to', 'pending', 'external_id', o.external_id)
      from keys k join outbox o on o.id = k.created_id
     order by o.tenant_id, o.external_id
  )
  select k.ord, exists (select from tenants t where t.id = k.tenant_id) as tenant_exists, e.*
    from keys k
    left join lateral (
      ${eitherTable('tenant_id = k.tenant_id and external_id = k.external_id')}
    ) e on true
   order by k.ord, e.moved_at nulls first`;

type ParsedEnvelope = z.output<typeof enqueueInput>;
type KeyedEnvelope = ParsedEnvelope & { ord: number; external_id: string };
// A key found nowhere comes back once with every envelope column null (left join).
type ReadBackRow = { ord: number; tenant_exists: boolean } & (EitherRow | { [K in keyof EitherRow]: null });
const isEnvelopeRow = (row: EitherRow | { id: null }): row is EitherRow => row.id !== null;

/** A concurrent move or removal of the same key between our two statements: run again. */
class EnqueueRace extends Error {}
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
        return await this.#access.run((tx) => this.#enqueueOnce(tx, keyed, fieldName));
      } catch (error) {
        if (!(error instanceof EnqueueRace)) throw error;
        if (attempt === MAX_ATTEMPTS) {
          throw new StewardError('conflict', 'the envelope kept changing while it was enqueued; try again', { field: 'external_id' });
        }
      }
    }
  }

  async #enqueueOnce(tx: Transaction, envelopes: KeyedEnvelope[], fieldName: (ord: number, field: string) => string): Promise<EnqueueResult[]> {
    const inserted = await tx.query<{ ord: number; id: string }>(INSERT_NEW, [JSON.stringify(envelopes)]);
    const createdIds = new Map(inserted.rows.map((r) => [r.ord, r.id]));
    const keys = envelopes.map((e) => ({
      ord: e.ord, tenant_id: e.tenant_id, external_id: e.external_id,
      created_id: createdIds.get(e.ord) ?? null, actor_type: e.actor_type, actor_id: e.actor_id,
    }));
    const readBack = await tx.query<ReadBackRow>(AUDIT_AND_READ_BACK, [JSON.stringify(keys)]);
    const found = readBack.rows.map(({ ord, tenant_exists, ...row }) => ({ ord, tenant_exists, row }));

    return envelopes.map((e) => {
      const mine = found.filter((f) => f.ord === e.ord); // outbox row first, if both
      const created = createdIds.has(e.ord);
      // Created now, yet also in the DLQ: the DLQ row was committed after statement 1's
      // snapshot (the worker dead-lettered an earlier envelope of this key). Retried,
      // statement 1 sees it and returns it instead of creating a twin.
      if (created && mine.some((f) => f.row.status === 'dlq')) throw new EnqueueRace();
      const current = mine[0];
      if (!current || !isEnvelopeRow(current.row)) {
        if (!current?.tenant_exists) throw notFound('tenant', fieldName(e.ord, 'tenant_id'), e.tenant_id);
        throw new EnqueueRace(); // the row that blocked our insert was removed meanwhile
      }
      return { ...toEnvelope(current.row), created };
    });
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
