import type { z } from 'zod';
import {
  catalogEntriesInput, catalogEntryInput, listCatalogInput,
  type CatalogEntry, type CatalogEntryInput, type CatalogService, type ListCatalogInput,
} from '../catalog-service.ts';
import { StewardError } from '../../errors.ts';
import { limit as limitField, notFound, parseInput, toolSlug, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrap, unwrapAll } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COLUMNS = 'id,tenant_id,tool_slug,display_name,description,version,risk,schema,required_scopes,created_at,updated_at';
const DATES = ['created_at', 'updated_at'] as const;
const versionField = catalogEntryInput.shape.version.unwrap();

const keyOf = (e: { tenant_id: string; tool_slug: string; version: string }): string =>
  JSON.stringify([e.tenant_id.toLowerCase(), e.tool_slug, e.version]);

export class RestCatalogService implements CatalogService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #catalog() {
    return this.#access.client.from('tool_catalog');
  }

  async upsert(entry: CatalogEntryInput): Promise<CatalogEntry> {
    const rows = await this.#write([parseInput(catalogEntryInput, entry)]);
    return rows[0]!;
  }

  async upsertMany(entries: CatalogEntryInput[]): Promise<CatalogEntry[]> {
    const parsed = parseInput(catalogEntriesInput, { entries }).entries;
    return parsed.length === 0 ? [] : this.#write(parsed);
  }

  // One bulk upsert: one statement on the server, so a failing entry writes nothing.
  async #write(entries: z.output<typeof catalogEntryInput>[]): Promise<CatalogEntry[]> {
    const rows = allWithDates<CatalogEntry>(
      await unwrapAll(this.#catalog.upsert(entries, { onConflict: 'tenant_id,tool_slug,version' }).select(COLUMNS)),
      DATES,
    );
    // Input order, whatever order the server returned them in.
    const byKey = new Map(rows.map((r) => [keyOf(r), r]));
    return entries.map((e) => {
      const row = byKey.get(keyOf(e));
      if (!row) throw new StewardError('internal', `the upsert of ${e.tool_slug}@${e.version} returned no row`);
      return row;
    });
  }

  async get(tenantId: string, slugInput: string, version?: string): Promise<CatalogEntry> {
    const t = parseInput(uuid, tenantId, 'tenant_id');
    const slug = parseInput(toolSlug, slugInput, 'tool_slug');
    const v = parseInput(versionField.optional(), version, 'version');
    let query = this.#catalog.select(COLUMNS).eq('tenant_id', t).eq('tool_slug', slug);
    if (v !== undefined) query = query.eq('version', v);
    const row = await unwrap(query.order('updated_at', { ascending: false }).order('id', { ascending: false }).limit(1).maybeSingle());
    if (!row) throw notFound('tool', 'tool_slug', v === undefined ? slug : `${slug}@${v}`);
    return withDates(row, DATES);
  }

  async list(filter: ListCatalogInput = {}): Promise<CatalogEntry[]> {
    const f = parseInput(listCatalogInput, filter);
    let query = this.#catalog.select(COLUMNS);
    if (f.tenant_id !== undefined) query = query.eq('tenant_id', f.tenant_id);
    if (f.risk !== undefined) query = query.eq('risk', f.risk);
    const n = parseInput(limitField, f.limit, 'limit');
    return allWithDates(await unwrapAll(query.order('tenant_id').order('tool_slug').order('version').order('id').limit(n)), DATES);
  }
}
