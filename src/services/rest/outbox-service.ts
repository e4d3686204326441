import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { StewardError } from '../../errors.ts';
import {
  enqueueBatchInput, enqueueInput, listByStatusInput, listDlqInput,
  type DeadLetterEnvelope, type EnqueueInput, type EnqueueResult, type Envelope, type ListByStatusInput, type ListDlqInput,
  type OutboxEnvelope, type OutboxService, type OutboxStatus,
} from '../outbox-service.ts';
import { notFound, parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { fromRestError, unwrap, unwrapAll, type RestErrorBody } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COMMON = 'id,tenant_id,tool_slug,arguments,connected_account_id,risk,external_id,trust_context,metadata,status,attempts,last_error,result,created_at';
const OUTBOX_COLUMNS = `${COMMON},next_run_at,locked_by,locked_until,approved_at,approved_by,updated_at`;
const DLQ_COLUMNS = `${COMMON},moved_at`;
const DATES = ['created_at', 'next_run_at', 'locked_until', 'approved_at', 'updated_at', 'moved_at'] as const;

type EitherRow = Omit<OutboxEnvelope, 'status'> & { status: OutboxStatus | 'dlq'; moved_at: Date | null };
type EnqueuedRow = EitherRow & { ord: number; created: boolean; tenant_exists: boolean };

function toEnvelope(row: EitherRow): Envelope {
  const { next_run_at, locked_by, locked_until, approved_at, approved_by, updated_at, moved_at, status, ...common } = row;
  if (status === 'dlq') return { ...common, status, moved_at: moved_at! };
  return { ...common, status, next_run_at, locked_by, locked_until, approved_at, approved_by, updated_at };
}

const MAX_ATTEMPTS = 3;

/** The batch position public.enqueue_envelopes names when a tenant does not exist. */
function unknownTenantOrd(details: string | null | undefined): number | undefined {
  try {
    const parsed = JSON.parse(details ?? '') as { ord?: unknown; field?: unknown };
    return typeof parsed.ord === 'number' && parsed.field === 'tenant_id' ? parsed.ord : undefined;
  } catch {
    return undefined;
  }
}

export class RestOutboxService implements OutboxService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
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

  async #enqueue(envelopes: z.output<typeof enqueueInput>[], fieldName: (ord: number, field: string) => string): Promise<EnqueueResult[]> {
    // The key is generated here, once, so a retry reuses it.
    const keyed = envelopes.map((e, ord) => ({ ...e, ord, external_id: e.external_id ?? randomUUID() }));
    for (let attempt = 1; ; attempt++) {
      // public.enqueue_envelopes (011_rest_rpcs) wraps steward.enqueue_envelopes: one
      // request, one transaction, so an unknown tenant anywhere undoes the whole batch.
      const response: { data: unknown; error: RestErrorBody | null } = await this.#access.client.rpc('enqueue_envelopes', { p_envelopes: keyed });
      const { data, error } = response;
      if (error) {
        // serialization_failure: the key moved or vanished meanwhile; run it again.
        if (error.code === 'P0002') {
          // An unknown tenant: the wrapper refused (and undid) the batch, naming the position.
          const ord = unknownTenantOrd(error.details);
          if (ord !== undefined) throw notFound('tenant', fieldName(ord, 'tenant_id'), keyed[ord]?.tenant_id);
        }
        if (error.code !== '40001') throw fromRestError(error);
        if (attempt === MAX_ATTEMPTS) {
          throw new StewardError('conflict', 'the envelope kept changing while it was enqueued; try again', { field: 'external_id' });
        }
        continue;
      }
      const rows = allWithDates<EnqueuedRow>(data ?? [], DATES);
      return keyed.map((e) => {
        const row = rows.find((r) => r.ord === e.ord); // the outbox row first, if both
        if (!row || row.id === null) throw notFound('tenant', fieldName(e.ord, 'tenant_id'), e.tenant_id);
        const { ord: _ord, created, tenant_exists: _exists, ...envelope } = row;
        return { ...toEnvelope(envelope), created };
      });
    }
  }

  async get(id: string): Promise<Envelope> {
    const envelopeId = parseInput(uuid, id, 'id');
    // Two requests, outbox first: an envelope moving to the DLQ in between is still found
    // (in the DLQ); one requeued from the DLQ in between would be missed.
    const live = await unwrap(this.#access.client.from('outbox').select(OUTBOX_COLUMNS).eq('id', envelopeId).maybeSingle());
    if (live) return withDates<OutboxEnvelope>(live, DATES);
    const dead = await unwrap(this.#access.client.from('outbox_dlq').select(DLQ_COLUMNS).eq('id', envelopeId).maybeSingle());
    if (dead) return withDates<DeadLetterEnvelope>(dead, DATES);
    throw notFound('envelope', 'id', envelopeId);
  }

  async listByStatus(query: ListByStatusInput): Promise<OutboxEnvelope[]> {
    const q = parseInput(listByStatusInput, query);
    let request = this.#access.client.from('outbox').select(OUTBOX_COLUMNS).eq('status', q.status);
    if (q.tenant_id !== undefined) request = request.eq('tenant_id', q.tenant_id);
    return allWithDates(await unwrapAll(request.order('created_at').order('id').limit(q.limit)), DATES);
  }

  async listDlq(query: ListDlqInput = {}): Promise<DeadLetterEnvelope[]> {
    const q = parseInput(listDlqInput, query);
    let request = this.#access.client.from('outbox_dlq').select(DLQ_COLUMNS);
    if (q.tenant_id !== undefined) request = request.eq('tenant_id', q.tenant_id);
    return allWithDates(await unwrapAll(request.order('moved_at', { ascending: false }).order('id').limit(q.limit)), DATES);
  }
}
