import {
  createObjectiveInput, listObjectivesInput, updateObjectiveInput,
  type CreateObjectiveInput, type ListObjectivesInput, type Objective, type ObjectivesService, type UpdateObjectiveInput,
} from '../objectives-service.ts';
import { notFound, parseInput, uuid } from '../validation.ts';
import type { RestAccess } from './access.ts';
import { unwrap, unwrapAll } from './errors.ts';
import { allWithDates, withDates } from './rows.ts';

const COLUMNS = 'id,tenant_id,title,metric,target,horizon,summary,created_at,updated_at';
const DATES = ['created_at', 'updated_at'] as const;

export class RestObjectivesService implements ObjectivesService {
  readonly #access: RestAccess;

  constructor(access: RestAccess) {
    this.#access = access;
  }

  get #objectives() {
    return this.#access.client.from('objectives');
  }

  async create(input: CreateObjectiveInput): Promise<Objective> {
    const o = parseInput(createObjectiveInput, input);
    const row = await unwrapAll(
      this.#objectives.insert({ tenant_id: o.tenant_id, title: o.title, metric: o.metric, target: o.target ?? null, horizon: o.horizon ?? null, summary: o.summary ?? null })
        .select(COLUMNS).single(),
    );
    return withDates(row, DATES);
  }

  async get(id: string): Promise<Objective> {
    const objectiveId = parseInput(uuid, id, 'id');
    const row = await unwrap(this.#objectives.select(COLUMNS).eq('id', objectiveId).maybeSingle());
    if (!row) throw notFound('objective', 'id', objectiveId);
    return withDates(row, DATES);
  }

  async list(filter: ListObjectivesInput = {}): Promise<Objective[]> {
    const f = parseInput(listObjectivesInput, filter);
    let query = this.#objectives.select(COLUMNS);
    if (f.tenant_id !== undefined) query = query.eq('tenant_id', f.tenant_id);
    if (f.metric !== undefined) query = query.eq('metric', f.metric);
    return allWithDates(await unwrapAll(query.order('created_at').order('id').limit(f.limit)), DATES);
  }

  async update(id: string, patch: UpdateObjectiveInput): Promise<Objective> {
    const objectiveId = parseInput(uuid, id, 'id');
    const p = parseInput(updateObjectiveInput, patch);
    if (Object.keys(p).length === 0) return this.get(objectiveId);
    // PATCH sets only the keys it sends: absent = unchanged, null = cleared.
    const row = await unwrap(this.#objectives.update(p).eq('id', objectiveId).select(COLUMNS).maybeSingle());
    if (!row) throw notFound('objective', 'id', objectiveId);
    return withDates(row, DATES);
  }
}
