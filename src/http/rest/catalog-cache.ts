import type { Database } from '../../db/database.ts';
import { loadCatalog, type SchemaCatalog } from './catalog.ts';

/** PostgREST's channel: `NOTIFY pgrst, 'reload schema'` after DDL reloads the cache. */
export const RELOAD_CHANNEL = 'pgrst';

/**
 * The schema catalog, read once and kept: a request never waits on catalog queries
 * (PostgREST's schema cache). It is reloaded on demand, by refresh() or by a
 * `NOTIFY pgrst, 'reload schema'` (or an empty payload) on the database.
 */
export class CatalogCache {
  readonly #db: Database;
  #current: Promise<SchemaCatalog> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(db: Database) {
    this.#db = db;
  }

  get(): Promise<SchemaCatalog> {
    this.#current ??= this.#load();
    return this.#current;
  }

  /** Reads the catalog again; until it has, requests keep the previous one. */
  async refresh(): Promise<SchemaCatalog> {
    const next = this.#load();
    await next;
    this.#current = next;
    return next;
  }

  async listen(onError: (error: unknown) => void = () => undefined): Promise<void> {
    this.#unlisten ??= await this.#db.driver.listen(RELOAD_CHANNEL, (payload) => {
      if (payload === '' || payload === 'reload schema') this.refresh().catch(onError);
    });
  }

  async close(): Promise<void> {
    await this.#unlisten?.();
    this.#unlisten = undefined;
  }

  #load(): Promise<SchemaCatalog> {
    const loading = this.#db.asService((tx) => loadCatalog(tx), { readOnly: true });
    // A failed first load is not cached: the next request tries again.
    loading.catch(() => {
      if (this.#current === loading) this.#current = undefined;
    });
    return loading;
  }
}
