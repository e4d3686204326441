import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const UNKNOWN = 'cccccccc-0000-4000-8000-000000000003';
const GMAIL = 'GMAIL__drafts.create';
const SLACK = 'SLACK__chat.postMessage';
const gmailSchema = { type: 'object', required: ['to', 'subject', 'body'], properties: { to: { type: 'string' } } };

forEachBackend('CatalogService', (ctx) => {
  const asService = () => ctx().services('service').catalog;
  const asTenant = (tenant_id: string) => ctx().services({ tenant_id }).catalog;
  const count = async () =>
    (await ctx().test.owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from tool_catalog'))).rows[0]!.n;

  before(async () => {
    const tenants = new SqlTenantService(ctx().service());
    await tenants.create({ id: A, name: 'Acme' });
    await tenants.create({ id: B, name: 'Beta' });
  });

  it('upserts one entry with defaults', async () => {
    const e = await asService().upsert({ tenant_id: A, tool_slug: 'NOTION__page.create' });
    assert.equal(typeof e.id, 'number');
    assert.equal(e.tenant_id, A);
    assert.equal(e.tool_slug, 'NOTION__page.create');
    assert.equal(e.version, 'latest');
    assert.equal(e.risk, null);
    assert.equal(e.display_name, null);
    assert.equal(e.description, null);
    assert.deepEqual(e.schema, {});
    assert.deepEqual(e.required_scopes, []);
    assert.ok(e.created_at instanceof Date && e.updated_at instanceof Date);
  });

  it('upserts many in one statement, returned in input order', async () => {
    const rows = await asService().upsertMany([
      { tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'low', required_scopes: ['SLACK.CHAT:WRITE'] },
      { tenant_id: A, tool_slug: GMAIL, version: '1.0', risk: 'medium', schema: gmailSchema, required_scopes: ['GMAIL.SMTP'], display_name: 'Create draft' },
      { tenant_id: B, tool_slug: GMAIL, version: '1.0', risk: 'high' },
    ]);
    assert.deepEqual(rows.map((r) => [r.tenant_id, r.tool_slug, r.risk]), [[A, SLACK, 'low'], [A, GMAIL, 'medium'], [B, GMAIL, 'high']]);
    assert.deepEqual(rows[1]!.schema, gmailSchema);
    assert.deepEqual(rows[1]!.required_scopes, ['GMAIL.SMTP']);
    assert.equal(rows[1]!.display_name, 'Create draft');
    assert.deepEqual(await asService().upsertMany([]), []);
    assert.equal(await count(), 4);
  });

  it('upsert on the same (tenant, slug, version) replaces the entry in place', async () => {
    const before = await asService().get(A, GMAIL, '1.0');
    const rows = await count();
    const e = await asService().upsert({ tenant_id: A, tool_slug: GMAIL, version: '1.0', risk: 'high', description: 'Drafts an email' });
    assert.equal(e.id, before.id);
    assert.equal(e.risk, 'high');
    assert.equal(e.description, 'Drafts an email');
    assert.deepEqual(e.schema, {});
    assert.deepEqual(e.required_scopes, []);
    assert.equal(e.display_name, null);
    assert.ok(e.updated_at.getTime() >= before.updated_at.getTime());
    assert.equal(await count(), rows);
    await asService().upsert({ tenant_id: A, tool_slug: GMAIL, version: '1.0', risk: 'medium', schema: gmailSchema, required_scopes: ['GMAIL.SMTP'] });
  });

  it('get without a version returns the most recently updated one', async () => {
    await asService().upsert({ tenant_id: A, tool_slug: GMAIL, version: '2.0', risk: 'high' });
    assert.equal((await asService().get(A, GMAIL)).version, '2.0');
    assert.equal((await asService().get(A, GMAIL, '1.0')).risk, 'medium');
    await asService().upsert({ tenant_id: A, tool_slug: GMAIL, version: '1.0', risk: 'medium', schema: gmailSchema });
    assert.equal((await asService().get(A, GMAIL)).version, '1.0');
  });

  it('lists by tenant and risk', async () => {
    const all = await asService().list();
    assert.deepEqual(all.map((e) => `${e.tenant_id === A ? 'A' : 'B'}:${e.tool_slug}@${e.version}`), [
      `A:${GMAIL}@1.0`, `A:${GMAIL}@2.0`, 'A:NOTION__page.create@latest', `A:${SLACK}@1.0`, `B:${GMAIL}@1.0`,
    ]);
    assert.deepEqual((await asService().list({ tenant_id: B })).map((e) => e.tool_slug), [GMAIL]);
    assert.deepEqual((await asService().list({ risk: 'high' })).map((e) => e.tenant_id), [A, B]);
    assert.deepEqual((await asService().list({ tenant_id: A, risk: 'low' })).map((e) => e.tool_slug), [SLACK]);
    assert.equal((await asService().list({ limit: 2 })).length, 2);
  });

  it('tenants read their own catalog and may not write it', async () => {
    assert.equal((await asTenant(A).get(A, SLACK)).risk, 'low');
    assert.equal((await asTenant(A).list()).length, 4);
    const before = await asService().get(A, SLACK, '1.0');
    const rows = await count();
    await rejectsWith(asTenant(A).upsert({ tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'high' }), 'forbidden');
    await rejectsWith(asTenant(A).upsertMany([{ tenant_id: A, tool_slug: 'NEW__tool' }]), 'forbidden');
    assert.deepEqual(await asService().get(A, SLACK, '1.0'), before);
    assert.equal(await count(), rows);
  });

  it('isolates tenants: B never reads or changes A’s catalog', async () => {
    const before = await asService().get(A, SLACK, '1.0');
    await rejectsWith(asTenant(B).get(A, SLACK), 'not_found', 'tool_slug');
    await rejectsWith(asTenant(B).get(A, SLACK, '1.0'), 'not_found', 'tool_slug');
    assert.deepEqual((await asTenant(B).list()).map((e) => e.tenant_id), [B]);
    assert.deepEqual(await asTenant(B).list({ tenant_id: A }), []);
    await rejectsWith(asTenant(B).upsert({ tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'high' }), 'forbidden');
    assert.deepEqual(await asService().get(A, SLACK, '1.0'), before);
  });

  it('rejects bad input naming the field, and changes nothing', async () => {
    const before = await asService().get(A, SLACK, '1.0');
    const rows = await count();
    const svc = asService();
    await rejectsWith(svc.upsert({ tenant_id: 'nope', tool_slug: SLACK }), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: 'two words' }), 'invalid_input', 'tool_slug');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, version: ' ' }), 'invalid_input', 'version');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, risk: 'critical' as never }), 'invalid_input', 'risk');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, schema: [] as never }), 'invalid_input', 'schema');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, schema: { blob: 'x'.repeat(256 * 1024) } }), 'invalid_input', 'schema');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, required_scopes: 'SLACK.CHAT:WRITE' as never }), 'invalid_input', 'required_scopes');
    await rejectsWith(svc.upsert({ tenant_id: A, tool_slug: SLACK, owner: 'x' } as never), 'invalid_input');
    await rejectsWith(
      svc.upsertMany([{ tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'high' }, { tenant_id: A, tool_slug: 'X__y', risk: 'severe' as never }]),
      'invalid_input', 'entries.1.risk',
    );
    await rejectsWith(
      svc.upsertMany([{ tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'high' }, { tenant_id: A.toUpperCase(), tool_slug: SLACK, version: '1.0' }]),
      'invalid_input', 'entries.1.tool_slug',
    );
    await rejectsWith(svc.upsertMany('nope' as never), 'invalid_input', 'entries');
    await rejectsWith(svc.get('nope', SLACK), 'invalid_input', 'tenant_id');
    await rejectsWith(svc.get(A, ''), 'invalid_input', 'tool_slug');
    await rejectsWith(svc.get(A, SLACK, ''), 'invalid_input', 'version');
    await rejectsWith(svc.list({ risk: 'severe' as never }), 'invalid_input', 'risk');
    await rejectsWith(svc.list({ tenant_id: 'nope' }), 'invalid_input', 'tenant_id');
    assert.deepEqual(await asService().get(A, SLACK, '1.0'), before);
    assert.equal(await count(), rows);
  });

  it('an unknown tenant is not_found on tenant_id, and a batch with one writes nothing', async () => {
    const before = await asService().get(A, SLACK, '1.0');
    const rows = await count();
    await rejectsWith(asService().upsert({ tenant_id: UNKNOWN, tool_slug: SLACK }), 'not_found', 'tenant_id');
    await rejectsWith(
      asService().upsertMany([{ tenant_id: A, tool_slug: SLACK, version: '1.0', risk: 'high' }, { tenant_id: UNKNOWN, tool_slug: SLACK }]),
      'not_found', 'tenant_id',
    );
    assert.deepEqual(await asService().get(A, SLACK, '1.0'), before);
    assert.equal(await count(), rows);
  });

  it('get of an unknown tool or version is not_found', async () => {
    await rejectsWith(asService().get(A, 'NOPE__tool'), 'not_found', 'tool_slug');
    await rejectsWith(asService().get(A, SLACK, '9.9'), 'not_found', 'tool_slug');
    await rejectsWith(asService().get(UNKNOWN, SLACK), 'not_found', 'tool_slug');
  });
}, { rest: true });
