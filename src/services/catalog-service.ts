import { z } from 'zod';
import type { Access } from './access.ts';
import { KIB, jsonObject, limit, notFound, parseInput, riskTier, toolSlug, uuid, type RiskTier } from './validation.ts';

/** One version of a tool in a tenant's catalog. */
export interface CatalogEntry {
  id: number;
  tenant_id: string;
  tool_slug: string;
  display_name: string | null;
  description: string | null;
  version: string;
  /** null: no tier of its own (envelopes then default to `medium`). */
  risk: RiskTier | null;
  /** The JSON Schema of the tool's arguments. */
  schema: Record<string, unknown>;
  required_scopes: string[];
  created_at: Date;
  updated_at: Date;
}

const versionField = z.string().trim().min(1).max(64);

/** An entry as synced: omitted fields take the column defaults, on insert and on update. */
export const catalogEntryInput = z.strictObject({
  tenant_id: uuid,
  tool_slug: toolSlug,
  version: versionField.default('latest'),
  display_name: z.string().trim().min(1).max(200).nullable().default(null),
  description: z.string().trim().min(1).max(16_000).nullable().default(null),
  risk: riskTier.nullable().default(null),
  schema: jsonObject(256 * KIB).default({}),
  required_scopes: z.array(z.string().trim().min(1).max(200)).max(100).default([]),
});
export type CatalogEntryInput = z.input<typeof catalogEntryInput>;

// One statement cannot upsert the same key twice (ON CONFLICT refuses), so a batch
// naming a key twice is the caller's mistake, reported at the second occurrence.
export const catalogEntriesInput = z.strictObject({
  entries: z.array(catalogEntryInput).max(500).superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
      const key = JSON.stringify([e.tenant_id.toLowerCase(), e.tool_slug, e.version]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'tool_slug'], message: `repeats entry ${first} (same tenant_id, tool_slug and version)` });
    });
  }),
});

export const listCatalogInput = z.strictObject({ tenant_id: uuid.optional(), risk: riskTier.optional(), limit });
export type ListCatalogInput = z.input<typeof listCatalogInput>;

export interface CatalogService {
  /** Creates or replaces one entry, keyed by (tenant_id, tool_slug, version). Service role only. */
  upsert(entry: CatalogEntryInput): Promise<CatalogEntry>;
  /** Creates or replaces many entries in one statement; returns them in input order. Service role only. */
  upsertMany(entries: CatalogEntryInput[]): Promise<CatalogEntry[]>;
  /** That version, or without one the most recently updated; `not_found` when none (or hidden). */
  get(tenantId: string, toolSlug: string, version?: string): Promise<CatalogEntry>;
  /** By tenant, slug, version; a tenant sees only its own. */
  list(filter?: ListCatalogInput): Promise<CatalogEntry[]>;
}

const COLUMNS =
  'id, tenant_id, tool_slug, display_name, description, version, risk, schema, required_scopes, created_at, updated_at';

// The batch arrives as one jsonb array; jsonb_populate_recordset types each element as a
// tool_catalog row (text[] and jsonb included), and ordinality gives back input order.
const UPSERT = `
  with input as (
    select * from jsonb_populate_recordset(null::tool_catalog, $1::jsonb) with ordinality
  ), upserted as (
    insert into tool_catalog (tenant_id, tool_slug, version, display_name, description, risk, schema, required_scopes)
    select tenant_id, tool_slug, version, display_name, description, risk, schema, required_scopes from input
    on conflict (tenant_id, tool_slug, version) do update set
      display_name = excluded.display_name, description = excluded.description, risk = excluded.risk,
      schema = excluded.schema, required_scopes = excluded.required_scopes
    returning ${COLUMNS}
  )
  select u.* from upserted u join input i using (tenant_id, tool_slug, version) order by i.ordinality`;

export class SqlCatalogService implements CatalogService {
  readonly #access: Access;

  constructor(access: Access) {
    this.#access = access;
  }

  async upsert(entry: CatalogEntryInput): Promise<CatalogEntry> {
    const rows = await this.#write([parseInput(catalogEntryInput, entry)]);
    return rows[0]!;
  }

  async upsertMany(entries: CatalogEntryInput[]): Promise<CatalogEntry[]> {
    const parsed = parseInput(catalogEntriesInput, { entries }).entries;
    return parsed.length === 0 ? [] : this.#write(parsed);
  }

  async #write(entries: z.output<typeof catalogEntryInput>[]): Promise<CatalogEntry[]> {
    return this.#access.run(async (tx) => (await tx.query<CatalogEntry>(UPSERT, [JSON.stringify(entries)])).rows);
  }

  async get(tenantId: string, slugInput: string, version?: string): Promise<CatalogEntry> {
    const t = parseInput(uuid, tenantId, 'tenant_id');
    const slug = parseInput(toolSlug, slugInput, 'tool_slug');
    const v = parseInput(versionField.optional(), version, 'version');
    const row = await this.#access.run(async (tx) =>
      (
        await tx.query<CatalogEntry>(
          `select ${COLUMNS} from tool_catalog
            where tenant_id = $1 and tool_slug = $2 and ($3::text is null or version = $3)
            order by updated_at desc, id desc limit 1`,
          [t, slug, v ?? null],
        )
      ).rows[0],
    );
    if (!row) throw notFound('tool', 'tool_slug', v === undefined ? slug : `${slug}@${v}`);
    return row;
  }

  async list(filter: ListCatalogInput = {}): Promise<CatalogEntry[]> {
    const f = parseInput(listCatalogInput, filter);
    return this.#access.run(async (tx) =>
      (
        await tx.query<CatalogEntry>(
          `select ${COLUMNS} from tool_catalog
            where ($1::uuid is null or tenant_id = $1) and ($2::text is null or risk = $2)
            order by tenant_id, tool_slug, version, id limit $3`,
          [f.tenant_id ?? null, f.risk ?? null, f.limit],
        )
      ).rows,
    );
  }
}
