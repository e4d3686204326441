import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { TestDatabase } from '../../support/engines.ts';
import { forEachApi } from '../../support/api.ts';
import { A, B, arrangeFixture } from './fixture.ts';

// rpc() by POST and GET through supabase-js: Steward's own RPCs (approvals, the auth
// helpers) and a few test functions for the shapes a function can return.

const AWAITING_A = 'aaaaaaaa-0000-4000-8000-00000000e001';
const AWAITING_B = 'bbbbbbbb-0000-4000-8000-00000000e002';

async function arrange(test: TestDatabase): Promise<void> {
  await arrangeFixture(test);
  await test.owner.transaction(async (tx) => {
    await tx.exec(`
      create function public.rest_test_add(a integer, b integer default 10) returns integer language sql immutable as $$ select a + b $$;
      create function public.rest_test_series(n integer) returns setof integer language sql stable as $$ select generate_series(1, n) $$;
      create function public.rest_test_noop() returns void language sql volatile as $$ select $$;
      create function public.rest_test_echo(json) returns json language sql immutable as $$ select $1 $$;
      create function public.rest_test_objectives(p_metric text) returns setof public.objectives language sql stable as $$
        select * from public.objectives where metric = p_metric $$;
      create function public.rest_test_overloaded(x integer) returns text language sql immutable as $$ select 'integer ' || x $$;
      create function public.rest_test_overloaded(y text) returns text language sql immutable as $$ select 'text ' || y $$;
      create function public.rest_test_write(p_title text) returns public.objectives language sql volatile as $$
        insert into public.objectives (tenant_id, title, metric) values (public.current_tenant_id_uuid(), p_title, 'rpc') returning * $$;
      insert into public.outbox (id, tenant_id, tool_slug, arguments, status) values
        ('${AWAITING_A}', '${A}', 'GMAIL__send', '{}', 'awaiting_approval'),
        ('${AWAITING_B}', '${B}', 'GMAIL__send', '{}', 'awaiting_approval');`);
  });
}

const outcome = (r: { error: unknown; status: number; data: unknown }): unknown[] => [r.error, r.status, r.data];
const errorAndData = (r: { error: unknown; data: unknown }): unknown[] => [r.error, r.data];

forEachApi('REST rpc', (api) => {
  let a: SupabaseClient;
  before(async () => {
    a = await api().tenant(A, { scopes: ['reports:read'] });
  });

  describe('scalar results', () => {
    it('POST with named arguments; a defaulted argument may be left out', async () => {
      assert.deepEqual(await a.rpc('rest_test_add', { a: 1, b: 2 }).then(outcome), [null, 200, 3]);
      assert.deepEqual((await a.rpc('rest_test_add', { a: 1 })).data, 11);
    });

    it('GET with the arguments in the query string (array arguments too); HEAD', async () => {
      assert.deepEqual(await a.rpc('rest_test_add', { a: 5 }, { get: true }).then(errorAndData), [null, 15]);
      assert.deepEqual(await a.rpc('jwt_has_scopes', { required: ['reports:read'] }, { get: true }).then(errorAndData), [null, true]);
      assert.deepEqual(await a.rpc('jwt_has_scopes', { required: ['guardrails:write'] }, { get: true }).then((r): unknown => r.data), false);
      const head = await a.rpc('rest_test_add', { a: 5 }, { head: true });
      assert.deepEqual([head.error, head.status, head.data], [null, 200, null]);
    });

    it('the request\'s claims reach the function: current_tenant_id_uuid(), jwt_scopes()', async () => {
      assert.deepEqual((await a.rpc('current_tenant_id_uuid')).data, A);
      assert.deepEqual((await a.rpc('jwt_scopes')).data, ['reports:read']);
    });

    it('a set of scalars is an array', async () => {
      assert.deepEqual(await a.rpc('rest_test_series', { n: 3 }).then(errorAndData), [null, [1, 2, 3]]);
    });

    it('a single unnamed json parameter takes the whole body', async () => {
      const body = { x: [1, { y: 'two' }], z: null };
      assert.deepEqual(await a.rpc('rest_test_echo', body).then(errorAndData), [null, body]);
    });

    it('overloads are told apart by their parameter names', async () => {
      assert.equal((await a.rpc('rest_test_overloaded', { x: 4 })).data, 'integer 4');
      assert.equal((await a.rpc('rest_test_overloaded', { y: 'four' })).data, 'text four');
    });

    it('a void function answers 204', async () => {
      assert.deepEqual(await a.rpc('rest_test_noop').then(outcome), [null, 204, null]);
    });
  });

  describe('row results', () => {
    it('a set of rows takes select, filters, order, limit and count, under the caller\'s RLS', async () => {
      const res = await a.rpc('rest_test_objectives', { p_metric: 'nps' }, { count: 'exact' }).select('title, metric').order('title');
      assert.equal(res.error, null);
      assert.equal(res.count, 1);
      assert.deepEqual(res.data, await api().sqlJson({ tenant: A }, `select title, metric from public.rest_test_objectives('nps') order by title`));
      const filtered = await a.rpc('rest_test_objectives', { p_metric: 'churn' }).select('title').like('title', '*fast*').limit(1);
      assert.deepEqual(filtered.data, [{ title: 'Reduce churn, fast (really)' }]);
      const single = await a.rpc('rest_test_objectives', { p_metric: 'nps' }).select('title').single();
      assert.deepEqual(single.data, { title: 'Grow NPS' });
    });

    it('a function returning one row answers an object: approve_envelope as the tenant, audited as SQL shows', async () => {
      const res = await a.rpc('approve_envelope', { p_envelope: AWAITING_A, p_reason: 'looks right' });
      assert.equal(res.error, null);
      const [row] = await api().sqlJson('service', 'select * from public.outbox where id = $1', [AWAITING_A]);
      assert.deepEqual(res.data, row);
      assert.equal((res.data as { status: string }).status, 'pending');
      const audit = await api().sqlJson('service', `select actor_type, actor_id, category, payload->>'transition' as transition from public.audit_log where payload->>'envelope_id' = $1`, [AWAITING_A]);
      assert.deepEqual(audit, [{ actor_type: 'user', actor_id: `user-of-${A}`, category: 'approval', transition: 'approve' }]);
    });

    it('another tenant\'s envelope is not found (404, P0002); deciding twice is 409 (55000); anon may not call it (401)', async () => {
      const other = await a.rpc('approve_envelope', { p_envelope: AWAITING_B });
      assert.deepEqual([other.status, other.error?.code], [404, 'P0002']);
      assert.deepEqual((await api().sqlJson('service', 'select status from public.outbox where id = $1', [AWAITING_B])), [{ status: 'awaiting_approval' }]);
      const twice = await a.rpc('approve_envelope', { p_envelope: AWAITING_A });
      assert.deepEqual([twice.status, twice.error?.code], [409, '55000']);
      const anon = await api().anon().rpc('approve_envelope', { p_envelope: AWAITING_B });
      assert.deepEqual([anon.status, anon.error?.code, anon.error?.message], [401, '42501', 'permission denied for function approve_envelope']);
    });

    it('GET runs read only: a function that writes is 405 (25006); by POST it writes', async () => {
      const get = await a.rpc('rest_test_write', { p_title: 'By GET' }, { get: true });
      assert.deepEqual([get.status, get.error?.code], [405, '25006']);
      const post = await a.rpc('rest_test_write', { p_title: 'By POST' });
      assert.equal(post.error, null);
      assert.equal((post.data as { title: string }).title, 'By POST');
      assert.deepEqual(await api().sqlJson({ tenant: A }, `select title from public.objectives where metric = 'rpc'`), [{ title: 'By POST' }]);
    });
  });

  describe('errors', () => {
    it('an unknown function, or arguments it does not take, is 404 PGRST202', async () => {
      const unknown = await a.rpc('nope', { a: 1 });
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.error, {
        code: 'PGRST202',
        message: 'Could not find the function public.nope(a) in the schema cache',
        details: 'Searched for the function public.nope with parameter a, but no matches were found in the schema cache.',
        hint: null,
      });
      const args = await a.rpc('rest_test_add', { a: 1, c: 2 });
      assert.deepEqual([args.status, args.error?.code], [404, 'PGRST202']);
      const missing = await a.rpc('rest_test_add', { b: 2 });
      assert.deepEqual([missing.status, missing.error?.code], [404, 'PGRST202']);
    });

    it('an argument of the wrong type is 400 (22P02); a method RPC does not take is 405', async () => {
      const wrong = await a.rpc('rest_test_add', { a: 'one' });
      assert.deepEqual([wrong.status, wrong.error?.code], [400, '22P02']);
      const res = await fetch(`${api().rest}/rpc/rest_test_add`, { method: 'PATCH', headers: { apikey: api().keys.anonKey } });
      assert.equal(res.status, 405);
      assert.equal((await res.json() as { code: string }).code, 'PGRST101');
    });
  });
}, { arrange });
