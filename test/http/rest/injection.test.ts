import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { forEachApi } from '../../support/api.ts';
import { A, arrangeFixture } from './fixture.ts';

// SQL injection attempts where request text could meet SQL: column names, filters, order,
// casts, JSON paths, table and function names. Identifiers are only ever names found in
// the catalog, so an attempt there is refused before any transaction is opened; values
// are only ever bound parameters, so an attempt there is a value that matches nothing.

forEachApi('REST SQL injection', (api) => {
  let token: string;
  let snapshot: string;
  const tableState = async (): Promise<string> => JSON.stringify(await api().sqlJson('service',
    `select (select count(*) from public.objectives) as objectives, (select count(*) from public.tenants) as tenants,
            (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public') as relations`));

  before(async () => {
    token = await api().token({ role: 'authenticated', tenantId: A });
    snapshot = await tableState();
  });

  /** GET or POST the path: a 4xx with PostgREST's body, and not one transaction opened. */
  async function refusedUnexecuted(path: string, expected: { status: number; code: string | string[] }, init: RequestInit = {}): Promise<void> {
    const before = api().db.transactions;
    const res = await fetch(`${api().server.url}${path}`, { ...init, headers: { apikey: token, 'Content-Type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    const body = await res.json() as Record<string, unknown>;
    assert.equal(res.status, expected.status, `${path}: ${JSON.stringify(body)}`);
    assert.ok(([] as string[]).concat(expected.code).includes(body.code as string), `${path}: ${JSON.stringify(body)}`);
    assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'hint', 'message']);
    assert.equal(api().db.transactions, before, `${path}: nothing may be executed`);
  }

  const q = encodeURIComponent;

  describe('identifiers: 400, nothing executed', () => {
    it('in column names (select)', async () => {
      // Refused by the parser (PGRST100), or parsed into a name the catalog lacks (42703 a column,
      // PGRST200 a relationship): either way before any SQL.
      for (const select of ['title,(select 1)', 'title;drop table objectives', 'title"--', '"title"; delete from objectives --', '*,pg_sleep(1)', 'title)', 'title::text);drop table objectives;--', 'title::pg_sleep', '"title; drop table objectives"']) {
        await refusedUnexecuted(`/rest/v1/objectives?select=${q(select)}`, { status: 400, code: ['PGRST100', '42703', 'PGRST200'] });
      }
    });

    it('in filter keys and operators', async () => {
      const attempts: [string, string, string][] = [
        ['title;drop table objectives', 'eq.x', 'PGRST100'],
        ['"title" or 1=1 --', 'eq.x', 'PGRST100'],
        ['title', 'eq;drop table objectives.x', 'PGRST100'],
        ['title', 'or 1=1', 'PGRST100'],
        ['1=1) or (1', 'eq.1', 'PGRST100'],
        ['or', '(title.eq.x);drop table objectives', 'PGRST100'],
        ['or', '(title.eq.x,1=1)', 'PGRST100'],
        ['title', 'fts(english\');drop table objectives;--).x', 'PGRST100'],
        ['"pg_catalog"."pg_authid"', 'eq.x', 'PGRST108'],
        ['secret_column', 'eq.x', '42703'],
      ];
      for (const [key, value, code] of attempts) await refusedUnexecuted(`/rest/v1/objectives?${q(key)}=${q(value)}`, { status: 400, code });
    });

    it('in order', async () => {
      for (const order of ['title;drop table objectives', 'title desc, (select 1)', 'title.asc.nullsfirst;--', 'title.desc)', '(select 1)']) {
        await refusedUnexecuted(`/rest/v1/objectives?order=${q(order)}`, { status: 400, code: 'PGRST100' });
      }
      await refusedUnexecuted(`/rest/v1/objectives?order=${q('pg_sleep')}`, { status: 400, code: '42703' });
    });

    it('in columns and on_conflict', async () => {
      await refusedUnexecuted(`/rest/v1/objectives?columns=${q('title);drop table objectives;--')}`, { status: 400, code: 'PGRST100' }, { method: 'POST', body: '{"title":"x"}' });
      await refusedUnexecuted(`/rest/v1/objectives?on_conflict=${q('id) do nothing; drop table objectives;--')}`, { status: 400, code: 'PGRST100' }, { method: 'POST', body: '{"title":"x"}', headers: { Prefer: 'resolution=merge-duplicates' } });
      await refusedUnexecuted('/rest/v1/objectives', { status: 400, code: 'PGRST204' }, { method: 'POST', body: '{"title; drop table objectives":"x"}' });
    });

    it('in table and function names: 400 naming the path segment; a well-formed unknown name stays 404', async () => {
      const tables = ['objectives;drop table objectives', 'steward.jobs', 'pg_catalog.pg_authid', '"objectives"', 'objectives where 1=1', 'objectives--', 'objectives/**/',
        'objectives)', "objectives' or '1'='1", '1objectives', 'objectives\u0000', 'objectives\t', 'a'.repeat(64)];
      for (const path of tables) {
        await refusedUnexecuted(`/rest/v1/${q(path)}`, { status: 400, code: 'PGRST100' });
        await refusedUnexecuted(`/rest/v1/${q(path)}`, { status: 400, code: 'PGRST100' }, { method: 'POST', body: '{"title":"x"}' });
      }
      await refusedUnexecuted('/rest/v1/objectives%20where%201=1', { status: 400, code: 'PGRST100' });
      const functions = ['approve_envelope(uuid);drop table objectives', 'pg_sleep(1)', 'steward.claim_envelopes', 'approve_envelope"--', 'jwt_scopes;', 'jwt scopes', 'jwt_scopes/*', '$1', 'f'.repeat(64)];
      for (const fn of functions) {
        await refusedUnexecuted(`/rest/v1/rpc/${q(fn)}`, { status: 400, code: 'PGRST100' }, { method: 'POST', body: '{}' });
        await refusedUnexecuted(`/rest/v1/rpc/${q(fn)}`, { status: 400, code: 'PGRST100' });
      }
      // Well-formed names the schema cache lacks: PostgREST's 404, which supabase-js callers rely on.
      for (const table of ['nope', 'Objectives', 'objective', 'pg_authid', 'a'.repeat(63), 'tâche_2$']) {
        await refusedUnexecuted(`/rest/v1/${q(table)}`, { status: 404, code: 'PGRST205' });
      }
      for (const fn of ['pg_sleep', 'claim_envelopes', 'Jwt_scopes', 'version']) {
        await refusedUnexecuted(`/rest/v1/rpc/${q(fn)}`, { status: 404, code: 'PGRST202' }, { method: 'POST', body: '{}' });
      }
      // An argument name is looked up among the function's parameters: no overload takes it.
      await refusedUnexecuted(`/rest/v1/rpc/approve_envelope`, { status: 404, code: 'PGRST202' }, { method: 'POST', body: JSON.stringify({ 'p_envelope := null); drop table objectives; --': 1 }) });
    });

    it('the 400 names the path segment', async () => {
      const res = await fetch(`${api().rest}/${q('objectives;drop table objectives')}`, { headers: { apikey: token } });
      assert.equal(res.status, 400);
      const body = await res.json() as Record<string, unknown>;
      assert.equal(body.code, 'PGRST100');
      assert.match(String(body.message), /table name in the path \(objectives;drop table objectives\)/);
      const rpc = await (await api().tenant(A)).rpc('jwt_scopes;--');
      assert.deepEqual([rpc.status, rpc.error?.code], [400, 'PGRST100']);
      assert.match(String(rpc.error?.message), /function name in the path \(jwt_scopes;--\)/);
    });
  });

  describe('values: bound parameters, matching nothing, changing nothing', () => {
    it('in filter values, JSON path keys, in() lists and rpc arguments', async () => {
      const client = await api().tenant(A);
      for (const value of [`x' or '1'='1`, `x'; drop table objectives; --`, `') or true --`, '%']) {
        const res = await client.from('objectives').select('title').eq('title', value);
        assert.deepEqual([res.error, res.data], [null, []], value);
      }
      const inList = await client.from('objectives').select('title').in('title', [`a') or ('1'='1`, 'b']);
      assert.deepEqual([inList.error, inList.data], [null, []]);
      const jsonKey = await client.from('connected_accounts').select(`provider, x:metadata->>"x'); drop table objectives; --"`).eq('provider', 'GMAIL');
      assert.deepEqual([jsonKey.error, jsonKey.data], [null, [{ provider: 'GMAIL', x: null }]]);
      const jsonFilter = await client.from('connected_accounts').select('provider').eq(`metadata->>"tier' or '1'='1"`, 'gold');
      assert.deepEqual([jsonFilter.error, jsonFilter.data], [null, []]);
      const rpc = await client.rpc('jwt_has_scopes', { required: [`'); drop table objectives; --`] });
      assert.deepEqual([rpc.error, rpc.data], [null, false]);
    });
  });

  it('leaves the database as it was', async () => {
    assert.equal(await tableState(), snapshot);
  });
}, { arrange: arrangeFixture });
