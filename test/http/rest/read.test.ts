import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { SupabaseClient } from '@supabase/supabase-js';
import { forEachApi } from '../../support/api.ts';
import { A, B, arrangeFixture } from './fixture.ts';

// Reads through the real supabase-js client against the running server, each compared
// with the same query done in SQL as the same tenant (json_agg of the same rows, so the
// two sides are formatted by PostgreSQL alike).

interface Result {
  data: unknown;
  error: { code: string; message: string; details: string | null; hint: string | null } | null;
  count?: number | null;
  status: number;
}

forEachApi('REST reads', (api) => {
  let a: SupabaseClient;
  before(async () => {
    a = await api().tenant(A);
  });

  /** The query's rows are exactly what `sql` returns for tenant A. */
  async function same(query: PromiseLike<Result>, sql: string, params: unknown[] = []): Promise<Result> {
    const result = await query;
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.deepEqual(result.data, await api().sqlJson({ tenant: A }, sql, params));
    return result;
  }

  describe('select', () => {
    it('* returns every column', async () => {
      await same(a.from('objectives').select('*').order('title'), 'select * from public.objectives order by title');
    });

    it('a column list with renames and casts', async () => {
      await same(
        a.from('objectives').select('name:title, metric, t:target, created:created_at::text').order('title'),
        'select title as name, metric, target as t, created_at::text as created from public.objectives order by title',
      );
    });

    it('JSON paths in select and filters', async () => {
      await same(
        a.from('connected_accounts').select('provider, tier:metadata->>tier, n:metadata->n').eq('metadata->>tier', 'gold'),
        `select provider, metadata->>'tier' as tier, metadata->'n' as n from public.connected_accounts where metadata->>'tier' = 'gold'`,
      );
    });

    it('sees only the token\'s tenant: B\'s rows are not there, the service role sees both', async () => {
      const mine = await a.from('objectives').select('tenant_id');
      assert.deepEqual([...new Set((mine.data as { tenant_id: string }[]).map((r) => r.tenant_id))], [A]);
      const all = await api().service().from('objectives').select('tenant_id');
      assert.deepEqual([...new Set((all.data as { tenant_id: string }[]).map((r) => r.tenant_id))].sort(), [A, B]);
    });
  });

  describe('filters', () => {
    const cases: [string, (q: ReturnType<SupabaseClient['from']>) => PromiseLike<Result>, string, unknown[]?][] = [
      ['eq', (q) => q.select('title').eq('metric', 'nps'), `select title from public.objectives where metric = 'nps'`],
      ['neq', (q) => q.select('title').neq('metric', 'nps').order('title'), `select title from public.objectives where metric <> 'nps' order by title`],
      ['like with %', (q) => q.select('title').like('title', '%renewal%'), `select title from public.objectives where title like '%renewal%'`],
      ['like with * for %', (q) => q.select('title').like('title', '*rate'), `select title from public.objectives where title like '%rate'`],
      ['ilike', (q) => q.select('title').ilike('title', 'GROW%'), `select title from public.objectives where title ilike 'grow%'`],
      ['is null', (q) => q.select('title').is('target', null).order('title'), 'select title from public.objectives where target is null order by title'],
      ['not is null', (q) => q.select('title').not('target', 'is', null).order('title'), 'select title from public.objectives where target is not null order by title'],
      ['in', (q) => q.select('title').in('metric', ['nps', 'churn']).order('title'), `select title from public.objectives where metric in ('nps', 'churn') order by title`],
      ['in with , ( ) " in values', (q) => q.select('title').in('title', ['Reduce churn, fast (really)', 'Grow NPS']).order('title'),
        `select title from public.objectives where title in ('Reduce churn, fast (really)', 'Grow NPS') order by title`],
      ['not in', (q) => q.select('title').not('metric', 'in', '(nps,churn)').order('title'), `select title from public.objectives where metric not in ('nps', 'churn') order by title`],
      ['or', (q) => q.select('title').or('metric.eq.nps,target.is.null').order('title'), `select title from public.objectives where metric = 'nps' or target is null order by title`],
      ['or with a nested and', (q) => q.select('title').or('metric.eq.churn,and(metric.eq.renewal_rate,horizon.eq.Q3)').order('title'),
        `select title from public.objectives where metric = 'churn' or (metric = 'renewal_rate' and horizon = 'Q3') order by title`],
      ['or with a quoted value holding , and ( )', (q) => q.select('title').or('title.eq."Reduce churn, fast (really)",metric.eq.nps').order('title'),
        `select title from public.objectives where title = 'Reduce churn, fast (really)' or metric = 'nps' order by title`],
      ['match() (an eq per key)', (q) => q.select('title').match({ metric: 'nps', horizon: 'Q4' }), `select title from public.objectives where metric = 'nps' and horizon = 'Q4'`],
      ['match and imatch (regular expressions)', (q) => q.select('title').filter('title', 'imatch', '^(grow|REDUCE)').order('title'),
        `select title from public.objectives where title ~* '^(grow|REDUCE)' order by title`],
      ['isdistinct', (q) => q.select('title').filter('target', 'isdistinct', '5%').order('title'), `select title from public.objectives where target is distinct from '5%' order by title`],
      ['eq(any) over a list', (q) => q.select('title').filter('metric', 'eq(any)', '{nps,stars}').order('title'), `select title from public.objectives where metric = any('{nps,stars}') order by title`],
    ];
    for (const [name, query, sql, params] of cases) {
      it(name, async () => {
        await same(query(a.from('objectives')), sql, params);
      });
    }

    it('gt, gte, lt, lte on a bigint id', async () => {
      const ids = (await api().sqlJson({ tenant: A }, 'select id from public.tool_catalog order by id')) as { id: number }[];
      const mid = ids[1]!.id;
      await same(a.from('tool_catalog').select('id').gt('id', mid).order('id'), 'select id from public.tool_catalog where id > $1 order by id', [mid]);
      await same(a.from('tool_catalog').select('id').gte('id', mid).order('id'), 'select id from public.tool_catalog where id >= $1 order by id', [mid]);
      await same(a.from('tool_catalog').select('id').lt('id', mid).order('id'), 'select id from public.tool_catalog where id < $1 order by id', [mid]);
      await same(a.from('tool_catalog').select('id').lte('id', mid).order('id'), 'select id from public.tool_catalog where id <= $1 order by id', [mid]);
    });

    it('gt on a timestamp', async () => {
      await same(a.from('connected_accounts').select('provider').gt('linked_at', '2025-01-01T00:00:00Z'),
        `select provider from public.connected_accounts where linked_at > '2025-01-01T00:00:00Z'`);
    });

    it('cs, cd and ov on a text[] column; cs on jsonb', async () => {
      await same(a.from('connected_accounts').select('provider').contains('scopes', ['gmail.send']), `select provider from public.connected_accounts where scopes @> '{gmail.send}'`);
      await same(a.from('connected_accounts').select('provider').containedBy('scopes', ['gmail.send', 'gmail.read', 'chat.write']).order('provider'),
        `select provider from public.connected_accounts where scopes <@ '{gmail.send,gmail.read,chat.write}' order by provider`);
      await same(a.from('connected_accounts').select('provider').overlaps('scopes', ['chat.write', 'nothing']), `select provider from public.connected_accounts where scopes && '{chat.write,nothing}'`);
      await same(a.from('connected_accounts').select('provider').contains('metadata', { tier: 'gold' }), `select provider from public.connected_accounts where metadata @> '{"tier": "gold"}'`);
    });

    it('fts, plfts, phfts and wfts on a tsvector column, and fts on a text column', async () => {
      const ev = (): ReturnType<SupabaseClient['from']> => a.from('evidence_embeddings');
      await same(ev().select('content').textSearch('content_tsv', `'renewal' & 'risk'`, { config: 'english' }),
        `select content from public.evidence_embeddings where content_tsv @@ to_tsquery('english', '''renewal'' & ''risk''')`);
      await same(ev().select('content').textSearch('content_tsv', 'renewal risk', { type: 'plain', config: 'english' }),
        `select content from public.evidence_embeddings where content_tsv @@ plainto_tsquery('english', 'renewal risk')`);
      await same(ev().select('content').textSearch('content_tsv', 'quick brown fox', { type: 'phrase', config: 'english' }),
        `select content from public.evidence_embeddings where content_tsv @@ phraseto_tsquery('english', 'quick brown fox')`);
      await same(ev().select('content').textSearch('content_tsv', '"lazy dog" -cat', { type: 'websearch', config: 'english' }),
        `select content from public.evidence_embeddings where content_tsv @@ websearch_to_tsquery('english', '"lazy dog" -cat')`);
      await same(ev().select('content').textSearch('content', 'dogs', { config: 'english' }).order('content'),
        `select content from public.evidence_embeddings where to_tsvector('english', content) @@ to_tsquery('english', 'dogs') order by content`);
    });
  });

  describe('order, limit, offset, Range, count', () => {
    it('nullsfirst and nullslast, several keys', async () => {
      await same(a.from('objectives').select('title, target').order('target', { ascending: true, nullsFirst: true }).order('title', { ascending: false }),
        'select title, target from public.objectives order by target asc nulls first, title desc');
      await same(a.from('objectives').select('title, target').order('target', { ascending: false, nullsFirst: false }).order('title'),
        'select title, target from public.objectives order by target desc nulls last, title asc');
    });

    it('limit and range() (offset + limit)', async () => {
      await same(a.from('objectives').select('title').order('title').limit(2), 'select title from public.objectives order by title limit 2');
      await same(a.from('objectives').select('title').order('title').range(1, 2), 'select title from public.objectives order by title offset 1 limit 2');
    });

    it('count=exact: the total in Content-Range, 206 for a partial page; head: count only', async () => {
      const page = await same(a.from('objectives').select('title', { count: 'exact' }).order('title').range(0, 1), 'select title from public.objectives order by title limit 2');
      assert.equal(page.count, 4);
      assert.equal(page.status, 206);
      const whole = await a.from('objectives').select('title', { count: 'exact' }).eq('metric', 'nps');
      assert.deepEqual([whole.count, whole.status], [1, 200]);
      const head = await a.from('objectives').select('*', { count: 'exact', head: true }).is('target', null);
      assert.deepEqual([head.error, head.data, head.count, head.status], [null, null, 2, 200]);
    });

    it('a Range header narrows the page; Content-Range reports it; an offset past the end is 416', async () => {
      const headers = { apikey: await api().token({ role: 'authenticated', tenantId: A }) };
      const res = await fetch(`${api().rest}/objectives?select=title&order=title`, { headers: { ...headers, Range: '1-2', Prefer: 'count=exact' } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), '1-2/4');
      assert.deepEqual(await res.json(), await api().sqlJson({ tenant: A }, 'select title from public.objectives order by title offset 1 limit 2'));
      const plain = await fetch(`${api().rest}/objectives?select=title&limit=1`, { headers });
      assert.deepEqual([plain.status, plain.headers.get('content-range')], [200, '0-0/*']);
      await plain.body?.cancel();
      const past = await fetch(`${api().rest}/objectives?select=title&offset=10`, { headers: { ...headers, Prefer: 'count=exact' } });
      assert.equal(past.status, 416);
      assert.deepEqual(await past.json(), { code: 'PGRST103', message: 'Requested range not satisfiable', details: 'An offset of 10 was requested, but there are only 4 rows.', hint: null });
      const empty = await fetch(`${api().rest}/objectives?select=title&metric=eq.none`, { headers: { ...headers, Prefer: 'count=exact' } });
      assert.deepEqual([empty.status, empty.headers.get('content-range'), await empty.json()], [200, '*/0', []]);
    });
  });

  describe('single and maybeSingle', () => {
    it('single(): one row as an object; none or several: PGRST116, 406', async () => {
      const one = await a.from('objectives').select('title, metric').eq('metric', 'nps').single();
      assert.deepEqual(one.data, (await api().sqlJson({ tenant: A }, `select title, metric from public.objectives where metric = 'nps'`))[0]);
      const none = await a.from('objectives').select('title').eq('metric', 'none').single();
      assert.equal(none.status, 406);
      assert.deepEqual(none.error, { code: 'PGRST116', message: 'Cannot coerce the result to a single JSON object', details: 'The result contains 0 rows', hint: null });
      const many = await a.from('objectives').select('title').single();
      assert.deepEqual([many.status, many.error?.code, many.error?.details], [406, 'PGRST116', 'The result contains 4 rows']);
    });

    it('maybeSingle(): null for no row, the object for one', async () => {
      const none = await a.from('objectives').select('title').eq('metric', 'none').maybeSingle();
      assert.deepEqual([none.error, none.data], [null, null]);
      const one = await a.from('objectives').select('title').eq('metric', 'churn').maybeSingle();
      assert.deepEqual([one.error, one.data], [null, { title: 'Reduce churn, fast (really)' }]);
      const many = await a.from('objectives').select('title').maybeSingle();
      assert.equal(many.error?.code, 'PGRST116');
    });
  });

  describe('embedded resources', () => {
    it('one-to-many: an array per parent, with its own order and limit', async () => {
      await same(
        a.from('tenants').select('name, objectives(title, metric)').order('title', { referencedTable: 'objectives' }).limit(2, { referencedTable: 'objectives' }),
        `select t.name, coalesce((select json_agg(o) from (select title, metric from public.objectives where tenant_id = t.id order by title limit 2) o), '[]') as objectives
           from public.tenants t`,
      );
    });

    it('many-to-one: an object, renamed', async () => {
      await same(
        a.from('objectives').select('title, owner:tenants(name, plan)').order('title'),
        `select o.title, (select row_to_json(x) from (select name, plan from public.tenants where id = o.tenant_id) x) as owner from public.objectives o order by o.title`,
      );
    });

    it('a filter on the embedded resource filters the embedded rows only; !inner also the parents', async () => {
      await same(
        a.from('tenants').select('name, objectives(title)').eq('objectives.metric', 'churn'),
        `select t.name, coalesce((select json_agg(o) from (select title from public.objectives where tenant_id = t.id and metric = 'churn') o), '[]') as objectives from public.tenants t`,
      );
      await same(
        a.from('tenants').select('name, objectives!inner(title)').eq('objectives.metric', 'none'),
        `select name from public.tenants where false`,
      );
      await same(
        a.from('tool_catalog').select('tool_slug, tenants!inner(name)').eq('tenants.plan', 'pro').order('tool_slug'),
        `select c.tool_slug, (select row_to_json(x) from (select name from public.tenants where id = c.tenant_id) x) as tenants
           from public.tool_catalog c where exists (select from public.tenants t where t.id = c.tenant_id and t.plan = 'pro') order by c.tool_slug`,
      );
    });

    it('refuses an embed without a relationship (PGRST200) and a filter on something not embedded (PGRST108)', async () => {
      const none = await a.from('objectives').select('title, connected_accounts(provider)');
      assert.deepEqual([none.status, none.error?.code], [400, 'PGRST200']);
      const notEmbedded = await a.from('tenants').select('name').eq('objectives.metric', 'nps');
      assert.deepEqual([notEmbedded.status, notEmbedded.error?.code], [400, 'PGRST108']);
    });
  });

  describe('errors', () => {
    it('unknown columns (42703), tables (PGRST205), operators (PGRST100), values of the wrong type (22P02), other schemas (PGRST106)', async () => {
      const column = await a.from('objectives').select('nope');
      assert.deepEqual([column.status, column.error], [400, { code: '42703', message: 'column objectives.nope does not exist', details: null, hint: null }]);
      const filterColumn = await a.from('objectives').select('title').eq('nope', 1);
      assert.deepEqual([filterColumn.status, filterColumn.error?.code], [400, '42703']);
      const table = await a.from('nope').select();
      assert.deepEqual([table.status, table.error], [404, { code: 'PGRST205', message: "Could not find the table 'public.nope' in the schema cache", details: null, hint: null }]);
      const operator = await a.from('objectives').select('title').filter('metric', 'equals', 'nps');
      assert.deepEqual([operator.status, operator.error?.code], [400, 'PGRST100']);
      const value = await a.from('objectives').select('title').eq('id', 'not-a-uuid');
      assert.deepEqual([value.status, value.error?.code], [400, '22P02']);
      const schema = await a.schema('steward').from('jobs').select();
      assert.deepEqual([schema.status, schema.error?.code], [406, 'PGRST106']);
    });

    it('stripNulls(): keys whose value is null are left out', async () => {
      const res = await a.from('objectives').select('title, target, horizon').eq('metric', 'nps').stripNulls();
      assert.deepEqual([res.error, res.data], [null, [{ title: 'Grow NPS', horizon: 'Q4' }]]);
    });

    it('answers 406 (PGRST107) for media types it cannot produce', async () => {
      const csv = await a.from('objectives').select('title').csv();
      assert.deepEqual([csv.status, csv.error?.code], [406, 'PGRST107']);
    });
  });

  it('serves concurrent requests of different tenants, each in its own transaction, each seeing only its rows', async () => {
    const b = await api().tenant(B);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).from('objectives').select('tenant_id, title')));
    results.forEach((r, i) => {
      assert.equal(r.error, null);
      const tenants = new Set((r.data as { tenant_id: string }[]).map((row) => row.tenant_id));
      assert.deepEqual([...tenants], [i % 2 === 0 ? A : B], `request ${i}`);
      assert.equal((r.data as unknown[]).length, i % 2 === 0 ? 4 : 1);
    });
  });
}, { arrange: arrangeFixture });
