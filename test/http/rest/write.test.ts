import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { SupabaseClient } from '@supabase/supabase-js';
import { forEachApi } from '../../support/api.ts';
import { A, B, arrangeFixture } from './fixture.ts';

// Inserts, upserts, updates and deletes through supabase-js, each checked against the
// rows as SQL then sees them. Tenant A writes the tables tenants may write (objectives,
// connected_accounts); the service role writes the rest.

forEachApi('REST writes', (api) => {
  let a: SupabaseClient;
  let service: SupabaseClient;
  before(async () => {
    a = await api().tenant(A);
    service = api().service();
  });

  const rowsOf = (sql: string, params: unknown[] = []): Promise<unknown[]> => api().sqlJson('service', sql, params);

  describe('insert', () => {
    it('one row: 201 without a body by default; the row is there', async () => {
      const res = await a.from('objectives').insert({ tenant_id: A, title: 'Insert one', metric: 'm' });
      assert.deepEqual([res.error, res.status, res.data], [null, 201, null]);
      assert.deepEqual(await rowsOf(`select tenant_id, title, metric, target from public.objectives where title = 'Insert one'`), [{ tenant_id: A, title: 'Insert one', metric: 'm', target: null }]);
    });

    it('select().single(): the inserted row as an object, as SQL has it', async () => {
      const res = await a.from('objectives').insert({ tenant_id: A, title: 'Insert representation', metric: 'm', target: 'x' }).select().single();
      assert.equal(res.error, null);
      assert.equal(res.status, 201);
      assert.deepEqual(res.data, (await rowsOf(`select * from public.objectives where title = 'Insert representation'`))[0]);
    });

    it('bulk: the union of keys; a key a row lacks is null; count=exact counts them', async () => {
      const res = await a.from('objectives').insert([
        { tenant_id: A, title: 'Bulk 1', metric: 'm1', target: 't1' },
        { tenant_id: A, title: 'Bulk 2', metric: 'm2' },
      ], { count: 'exact' }).select('title, target');
      assert.equal(res.error, null);
      assert.equal(res.count, 2);
      assert.deepEqual(res.data, await rowsOf(`select title, target from public.objectives where title like 'Bulk %' order by title`));
      assert.deepEqual(res.data, [{ title: 'Bulk 1', target: 't1' }, { title: 'Bulk 2', target: null }]);
    });

    it('defaultToNull: false (missing=default): a key a row lacks takes the column default', async () => {
      const res = await a.from('connected_accounts').insert([
        { tenant_id: A, provider: 'NOTION', status: 'active' },
        { tenant_id: A, provider: 'LINEAR' },
      ], { defaultToNull: false }).select('provider, status, scopes, metadata');
      assert.equal(res.error, null);
      assert.deepEqual(res.data, [
        { provider: 'NOTION', status: 'active', scopes: [], metadata: {} },
        { provider: 'LINEAR', status: 'pending', scopes: [], metadata: {} },
      ]);
      // Without it, the missing status is an explicit null: the NOT NULL constraint refuses it (400).
      const nulls = await a.from('connected_accounts').insert([{ tenant_id: A, provider: 'JIRA', status: 'active' }, { tenant_id: A, provider: 'ASANA' }]);
      assert.deepEqual([nulls.status, nulls.error?.code], [400, '23502']);
      assert.deepEqual(await rowsOf(`select provider from public.connected_accounts where provider in ('JIRA', 'ASANA')`), [], 'the statement rolled back whole');
    });

    it('a unique violation is 409 with PostgreSQL\'s code, message and details (withheld under RLS)', async () => {
      const res = await a.from('connected_accounts').insert({ tenant_id: A, provider: 'GMAIL', metadata: { composio_id: 'ca_a1' } });
      assert.equal(res.status, 409);
      assert.equal(res.error?.code, '23505');
      assert.match(res.error?.message ?? '', /duplicate key value violates unique constraint/);
      // PostgreSQL leaves the key out where row level security applies, so a tenant learns nothing of other rows.
      assert.equal(res.error?.details, null);
      const service = await api().service().from('tool_catalog').insert({ tenant_id: A, tool_slug: 'GMAIL__send' });
      assert.deepEqual([service.status, service.error?.code], [409, '23505']);
      assert.match(service.error?.details ?? '', /GMAIL__send/);
    });

    it('row level security: a row for another tenant is 403 (42501); a column the tenant may not write is 403', async () => {
      const rls = await a.from('objectives').insert({ tenant_id: B, title: 'Planted in B', metric: 'm' });
      assert.equal(rls.status, 403);
      assert.deepEqual([rls.error?.code, rls.error?.message], ['42501', 'new row violates row-level security policy for table "objectives"']);
      const column = await a.from('objectives').insert({ id: '00000000-0000-4000-8000-000000000001', tenant_id: A, title: 'Chosen id', metric: 'm' });
      assert.deepEqual([column.status, column.error?.code], [403, '42501']);
      assert.deepEqual(await rowsOf(`select title from public.objectives where title in ('Planted in B', 'Chosen id')`), []);
    });

    it('unknown payload keys are PGRST204; a body that is not JSON is PGRST102', async () => {
      const unknown = await a.from('objectives').insert({ tenant_id: A, title: 't', metric: 'm', nope: 1 });
      assert.deepEqual([unknown.status, unknown.error], [400, { code: 'PGRST204', message: "Could not find the 'nope' column of 'objectives' in the schema cache", details: null, hint: null }]);
      const token = await api().token({ role: 'authenticated', tenantId: A });
      const bad = await fetch(`${api().rest}/objectives`, { method: 'POST', headers: { apikey: token, 'Content-Type': 'application/json' }, body: '{"title": ' });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json() as { code: string }).code, 'PGRST102');
    });

    it('return=headers-only: 201 with the new row\'s Location', async () => {
      const res = await fetch(`${api().rest}/objectives`, {
        method: 'POST',
        headers: { apikey: await api().token({ role: 'authenticated', tenantId: A }), 'Content-Type': 'application/json', Prefer: 'return=headers-only' },
        body: JSON.stringify({ tenant_id: A, title: 'Headers only', metric: 'm' }),
      });
      assert.equal(res.status, 201);
      const [row] = await rowsOf(`select id from public.objectives where title = 'Headers only'`) as { id: string }[];
      assert.equal(res.headers.get('location'), `/objectives?id=eq.${row!.id}`);
      assert.equal(await res.text(), '');
    });

    it('rollback(): the answer of a real insert, and nothing kept', async () => {
      const res = await a.from('objectives').insert({ tenant_id: A, title: 'Dry run', metric: 'm' }).select('title').rollback();
      assert.deepEqual([res.error, res.status, res.data], [null, 201, [{ title: 'Dry run' }]]);
      assert.deepEqual(await rowsOf(`select title from public.objectives where title = 'Dry run'`), []);
    });
  });

  describe('upsert', () => {
    const slugs = `select tool_slug, display_name from public.tool_catalog where tenant_id = $1 and tool_slug like 'UPSERT%' order by tool_slug`;

    it('merge-duplicates on on_conflict columns: updates the existing rows, inserts the new; 200 when nothing was inserted', async () => {
      const first = await service.from('tool_catalog').upsert([
        { tenant_id: A, tool_slug: 'UPSERT__a', display_name: 'a1' },
        { tenant_id: A, tool_slug: 'UPSERT__b', display_name: 'b1' },
      ], { onConflict: 'tenant_id,tool_slug,version' }).select('tool_slug, display_name');
      assert.deepEqual([first.error, first.status], [null, 201]);
      const second = await service.from('tool_catalog').upsert([
        { tenant_id: A, tool_slug: 'UPSERT__a', display_name: 'a2' },
        { tenant_id: A, tool_slug: 'UPSERT__c', display_name: 'c1' },
      ], { onConflict: 'tenant_id,tool_slug,version' }).select('tool_slug, display_name');
      assert.deepEqual([second.error, second.status], [null, 201]);
      assert.deepEqual(second.data, [{ tool_slug: 'UPSERT__a', display_name: 'a2' }, { tool_slug: 'UPSERT__c', display_name: 'c1' }]);
      assert.deepEqual(await rowsOf(slugs, [A]), [
        { tool_slug: 'UPSERT__a', display_name: 'a2' }, { tool_slug: 'UPSERT__b', display_name: 'b1' }, { tool_slug: 'UPSERT__c', display_name: 'c1' },
      ]);
      const onlyUpdates = await service.from('tool_catalog').upsert({ tenant_id: A, tool_slug: 'UPSERT__b', display_name: 'b2' }, { onConflict: 'tenant_id,tool_slug,version' }).select();
      assert.deepEqual([onlyUpdates.error, onlyUpdates.status], [null, 200]);
    });

    it('ignore-duplicates: existing rows stay as they are, new ones are inserted', async () => {
      const res = await service.from('tool_catalog').upsert([
        { tenant_id: A, tool_slug: 'UPSERT__a', display_name: 'ignored' },
        { tenant_id: A, tool_slug: 'UPSERT__d', display_name: 'd1' },
      ], { onConflict: 'tenant_id,tool_slug,version', ignoreDuplicates: true }).select('tool_slug, display_name');
      assert.equal(res.error, null);
      assert.deepEqual(res.data, [{ tool_slug: 'UPSERT__d', display_name: 'd1' }]);
      assert.deepEqual((await rowsOf(slugs, [A])).find((r) => (r as { tool_slug: string }).tool_slug === 'UPSERT__a'), { tool_slug: 'UPSERT__a', display_name: 'a2' });
    });

    it('without on_conflict, the primary key decides', async () => {
      const [row] = await rowsOf(`select id from public.objectives where title = 'Insert one'`) as { id: string }[];
      const res = await service.from('objectives').upsert({ id: row!.id, tenant_id: A, title: 'Insert one', metric: 'upserted' }).select('metric');
      assert.deepEqual([res.error, res.status, res.data], [null, 200, [{ metric: 'upserted' }]]);
    });
  });

  describe('update', () => {
    it('the matching rows, as SQL then has them; 204 without select()', async () => {
      const res = await a.from('objectives').update({ summary: 'NPS summary' }).eq('metric', 'nps').select('title, summary');
      assert.deepEqual([res.error, res.status], [null, 200]);
      assert.deepEqual(res.data, await api().sqlJson({ tenant: A }, `select title, summary from public.objectives where metric = 'nps'`));
      const plain = await a.from('objectives').update({ horizon: 'Q2' }).eq('metric', 'nps');
      assert.deepEqual([plain.error, plain.status, plain.data], [null, 204, null]);
      const counted = await a.from('objectives').update({ horizon: 'Q2' }, { count: 'exact' }).in('metric', ['nps', 'churn']);
      assert.deepEqual([counted.error, counted.count], [null, 2]);
    });

    it('reaches no row of another tenant: B\'s row is unchanged', async () => {
      const res = await a.from('objectives').update({ title: 'Hijacked' }).eq('tenant_id', B).select();
      assert.deepEqual([res.error, res.data], [null, []]);
      assert.deepEqual(await rowsOf(`select title from public.objectives where tenant_id = $1`, [B]), [{ title: 'Secret objective of B' }]);
    });

    it('a column the tenant may not update is 403', async () => {
      const res = await a.from('objectives').update({ tenant_id: B }).eq('metric', 'nps');
      assert.deepEqual([res.status, res.error?.code], [403, '42501']);
    });

    it('single() over several rows is PGRST116 and the update is rolled back', async () => {
      const before = await rowsOf('select id, title from public.objectives where tenant_id = $1 order by id', [A]);
      const res = await a.from('objectives').update({ title: 'All the same' }).eq('tenant_id', A).select().single();
      assert.deepEqual([res.status, res.error?.code], [406, 'PGRST116']);
      assert.deepEqual(await rowsOf('select id, title from public.objectives where tenant_id = $1 order by id', [A]), before);
    });

    it('unknown columns are PGRST204', async () => {
      const res = await a.from('objectives').update({ nope: 1 }).eq('metric', 'nps');
      assert.deepEqual([res.status, res.error?.code], [400, 'PGRST204']);
    });
  });

  describe('delete', () => {
    it('the matching rows, returned with select(); they are gone', async () => {
      const expected = await rowsOf(`select id, title from public.objectives where title like 'Bulk %' order by title`);
      const res = await service.from('objectives').delete().like('title', 'Bulk %').select('id, title').order('title');
      assert.deepEqual([res.error, res.status, res.data], [null, 200, expected]);
      assert.deepEqual(await rowsOf(`select id from public.objectives where title like 'Bulk %'`), []);
      const plain = await service.from('objectives').delete({ count: 'exact' }).eq('title', 'Headers only');
      assert.deepEqual([plain.error, plain.status, plain.count], [null, 204, 1]);
    });

    it('tenants may not delete (no grant): 403, nothing deleted', async () => {
      const res = await a.from('objectives').delete().eq('metric', 'nps');
      assert.deepEqual([res.status, res.error?.code, res.error?.message], [403, '42501', 'permission denied for table objectives']);
      assert.equal((await rowsOf(`select id from public.objectives where metric = 'nps' and tenant_id = $1`, [A])).length, 1);
    });
  });
}, { arrange: arrangeFixture });
