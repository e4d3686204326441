import { z } from 'zod';
import type { Access } from './access.ts';
import { limit, notFound, parseInput, uuid } from './validation.ts';

export interface Objective {
  id: string;
  tenant_id: string;
  title: string;
  metric: string;
  target: string | null;
  horizon: string | null;
  summary: string | null;
  created_at: Date;
  updated_at: Date;
}

const text = (max: number) => z.string().trim().min(1).max(max);

// The columns a tenant may write (004_rls grants). target, horizon and summary are
// optional; null clears them.
const fields = {
  title: text(200),
  metric: text(100),
  target: text(200).nullable(),
  horizon: text(100).nullable(),
  summary: text(4000).nullable(),
};

export const createObjectiveInput = z
  .strictObject({ tenant_id: uuid, ...fields })
  .partial({ target: true, horizon: true, summary: true });
export type CreateObjectiveInput = z.input<typeof createObjectiveInput>;

export const updateObjectiveInput = z.strictObject(fields).partial();
export type UpdateObjectiveInput = z.input<typeof updateObjectiveInput>;

export const listObjectivesInput = z.strictObject({ tenant_id: uuid.optional(), metric: fields.metric.optional(), limit });
export type ListObjectivesInput = z.input<typeof listObjectivesInput>;

export interface ObjectivesService {
  /** Creates an objective; a tenant only for itself (RLS), the service role for any tenant. */
  create(input: CreateObjectiveInput): Promise<Objective>;
  /** The objective, or `not_found` (also when RLS hides it). */
  get(id: string): Promise<Objective>;
  /** Oldest first; a tenant sees only its own. */
  list(filter?: ListObjectivesInput): Promise<Objective[]>;
  /** Absent keys keep their value; `not_found` when the row is missing or hidden. */
  update(id: string, patch: UpdateObjectiveInput): Promise<Objective>;
}

const COLUMNS = 'id, tenant_id, title, metric, target, horizon, summary, created_at, updated_at';

export class SqlObjectivesService implements ObjectivesService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async create(input: CreateObjectiveInput): Promise<Objective> {
    const o = parseInput(createObjectiveInput, input);
    return this.#access.run(async (tx) => {
      // No `id` column here: tenants have no insert grant on it.
      const res = await tx.query<Objective>(
        `insert into objectives (tenant_id, title, metric, target, horizon, summary)
         values ($1, $2, $3, $4, $5, $6) returning ${COLUMNS}`,
        [o.tenant_id, o.title, o.metric, o.target ?? null, o.horizon ?? null, o.summary ?? null],
      );
      return res.rows[0]!;
    });
  }

  async get(id: string): Promise<Objective> {
    const objectiveId = parseInput(uuid, id, 'id');
    const row = await this.#access.run(async (tx) =>
      (await tx.query<Objective>(`select ${COLUMNS} from objectives where id = $1`, [objectiveId])).rows[0],
    );
    if (!row) throw notFound('objective', 'id', objectiveId);
    return row;
  }

  async list(filter: ListObjectivesInput = {}): Promise<Objective[]> {
    const f = parseInput(listObjectivesInput, filter);
    return this.#access.run(async (tx) =>
      (
        await tx.query<Objective>(
          `select ${COLUMNS} from objectives
            where ($1::uuid is null or tenant_id = $1) and ($2::text is null or metric = $2)
            order by created_at, id limit $3`,
          [f.tenant_id ?? null, f.metric ?? null, f.limit],
        )
      ).rows,
    );
  }

  async update(id: string, patch: UpdateObjectiveInput): Promise<Objective> {
    const objectiveId = parseInput(uuid, id, 'id');
    const p = parseInput(updateObjectiveInput, patch);
    // jsonb_populate_record(row, patch) takes every key the patch lacks from the row
    // itself: absent = unchanged, null = cleared, in one statement.
    const row = await this.#access.run(async (tx) =>
      (
        await tx.query<Objective>(
          `update objectives o set (title, metric, target, horizon, summary) =
             (select p.title, p.metric, p.target, p.horizon, p.summary from jsonb_populate_record(o, $2::jsonb) as p)
           where o.id = $1 returning ${COLUMNS}`,
          [objectiveId, JSON.stringify(p)],
        )
      ).rows[0],
    );
    if (!row) throw notFound('objective', 'id', objectiveId);
    return row;
  }
}
