import { z } from 'zod';
import type { Access } from './access.ts';
import { KIB, jsonObject, limit, parseInput, timestamp, uuid } from './validation.ts';

/** A row of `audit_log`. chain_seq, prev_hash and hash are set by the database (003_audit). */
export interface AuditEntry {
  id: number;
  tenant_id: string | null;
  actor_type: string | null;
  actor_id: string | null;
  category: string;
  payload: Record<string, unknown>;
  created_at: Date;
  chain_seq: number;
  prev_hash: string;
  hash: string;
}

export type ChainBreakReason = 'hash_mismatch' | 'sequence_gap' | 'prev_hash_mismatch';

/** The first broken link of one chain (tenant_id null: the chain of rows without a tenant). */
export interface ChainBreak {
  tenant_id: string | null;
  id: number;
  chain_seq: number;
  reason: ChainBreakReason;
}

export const appendAuditInput = z.strictObject({
  // Required, though it may be null: a forgotten tenant must not silently land in the
  // tenant-less chain.
  tenant_id: uuid.nullable(),
  category: z.string().trim().min(1).max(64),
  actor_type: z.string().trim().min(1).max(64),
  actor_id: z.string().trim().min(1).max(200),
  payload: jsonObject(64 * KIB),
});
export type AppendAuditInput = z.input<typeof appendAuditInput>;

export const auditQueryInput = z.strictObject({
  /** Omitted: every chain the caller may see; null: only rows without a tenant. */
  tenant_id: uuid.nullable().optional(),
  category: z.string().trim().min(1).max(64).optional(),
  /** Inclusive lower bound on created_at. */
  since: timestamp.optional(),
  /** Exclusive upper bound on created_at. */
  until: timestamp.optional(),
  limit,
});
export type AuditQueryInput = z.input<typeof auditQueryInput>;

export interface AuditLogger {
  /** Appends one row to its tenant's chain (service role only). */
  append(entry: AppendAuditInput): Promise<AuditEntry>;
  /** Rows newest first; a tenant sees only its own. */
  query(filter?: AuditQueryInput): Promise<AuditEntry[]>;
  /** The first broken link of each chain, or of one tenant's; empty = intact (service role only). */
  verify(tenantId?: string): Promise<ChainBreak[]>;
}

const COLUMNS = 'id, tenant_id, actor_type, actor_id, category, payload, created_at, chain_seq, prev_hash, hash';

export class SqlAuditLogger implements AuditLogger {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async append(entry: AppendAuditInput): Promise<AuditEntry> {
    const e = parseInput(appendAuditInput, entry);
    return this.#access.run(async (tx) => {
      const res = await tx.query<AuditEntry>(
        `insert into audit_log (tenant_id, actor_type, actor_id, category, payload)
         values ($1, $2, $3, $4, $5::jsonb) returning ${COLUMNS}`,
        [e.tenant_id, e.actor_type, e.actor_id, e.category, JSON.stringify(e.payload)],
      );
      return res.rows[0]!;
    });
  }

  async query(filter: AuditQueryInput = {}): Promise<AuditEntry[]> {
    const f = parseInput(auditQueryInput, filter);
    return this.#access.run(async (tx) =>
      (
        await tx.query<AuditEntry>(
          `select ${COLUMNS} from audit_log
            where ($1::boolean or tenant_id = $2::uuid or ($2::uuid is null and tenant_id is null))
              and ($3::text is null or category = $3)
              and ($4::timestamptz is null or created_at >= $4)
              and ($5::timestamptz is null or created_at < $5)
            order by created_at desc, id desc limit $6`,
          [f.tenant_id === undefined, f.tenant_id ?? null, f.category ?? null, f.since ?? null, f.until ?? null, f.limit],
        )
      ).rows,
    );
  }

  async verify(tenantId?: string): Promise<ChainBreak[]> {
    const tenant = parseInput(uuid.optional(), tenantId, 'tenant_id');
    return this.#access.run(async (tx) =>
      (
        await tx.query<ChainBreak>(
          'select tenant_id, id, chain_seq, reason from steward.audit_verify($1::uuid)',
          [tenant ?? null],
        )
      ).rows,
    );
  }
}
