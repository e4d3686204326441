import assert from 'node:assert/strict';
import { it } from 'node:test';
import { syncCatalog } from '../../../src/integrations/composio/catalog-sync.ts';
import { listCatalogDrift, type CatalogDriftEntry } from '../../../src/integrations/composio/drift-monitor.ts';
import { SqlCatalogService } from '../../../src/services/catalog-service.ts';
import { SqlOutboxService, type OutboxEnvelope } from '../../../src/services/outbox-service.ts';
import { V1, V2 } from '../../fakes/composio/index.ts';
import { forEachBackend } from '../../support/backends.ts';
import { rejectsWith } from '../../support/assert-error.ts';
import { auditRows, count, expectedCatalog, storedCatalog, tenantWithAccounts } from './catalog-support.ts';
import { useFakeComposio } from './support.ts';

// The fake's catalog version 2 changes three tools (test/fakes/composio/catalog.ts):
//   GMAIL_SEND_EMAIL        recipient_email removed, `to` added and required
//   SLACK_SEND_MESSAGE      as_user removed, markdown_text added
//   HUBSPOT_CREATE_CONTACT  phone: string → array
// and moves every gmail, slack and hubspot tool to version 20251120_00.

const str = (title: string, description: string, examples?: unknown[]) => ({ type: 'string', title, description, ...(examples ? { examples } : {}) });

forEachBackend('drift monitor against the fake Composio', (ctx) => {
  const harness = useFakeComposio();
  const sync = (tenant: string) => syncCatalog({ db: ctx().db, client: harness.client, tenantIds: [tenant] });
  const drift = async (tenant: string): Promise<CatalogDriftEntry[]> =>
    (await listCatalogDrift(ctx().service(), { tenant_id: tenant })).sort((a, b) => a.tool_slug.localeCompare(b.tool_slug) || a.id - b.id);
  const enqueue = async (tenant_id: string, tool_slug: string) => (await new SqlOutboxService(ctx().service()).enqueue({ tenant_id, tool_slug, arguments: { x: 1 } })).id;
  const envelope = (id: string) => ctx().db.asService(async (tx) => (await tx.query<OutboxEnvelope>('select * from outbox where id = $1', [id])).rows[0]!);
  const outboxAudit = (id: string) => ctx().db.asService(async (tx) => (await tx.query<{ actor_type: string; actor_id: string; payload: Record<string, unknown> }>(
    `select actor_type, actor_id, payload from audit_log where payload ->> 'envelope_id' = $1 order by id`, [id])).rows);

  it('a schema change produces one catalog_audit row per changed tool with its diff; no change, no row', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack', 'hubspot']);
    await sync(tenant);
    assert.deepEqual(await drift(tenant), []);

    harness.fake.setCatalogVersion(2);
    const report = await sync(tenant);
    const rows = await drift(tenant);
    assert.deepEqual(rows.map((r) => [r.tool_slug, r.change, r.from_version, r.to_version, r.breaking]), [
      ['GMAIL_SEND_EMAIL', 'changed', V1, V2, true],
      ['HUBSPOT_CREATE_CONTACT', 'changed', V1, V2, true],
      ['SLACK_SEND_MESSAGE', 'changed', V1, V2, true],
    ]);
    const diff = Object.fromEntries(rows.map((r) => [r.tool_slug, r.diff]));
    assert.deepEqual(diff['GMAIL_SEND_EMAIL'], {
      schema: {
        breaking: true,
        changes: [
          { kind: 'field_removed', path: 'recipient_email', from: str('Recipient Email', "The primary recipient's email address.", ['john@doe.com']), breaking: true },
          { kind: 'required_field_added', path: 'to', to: str('To', "The primary recipient's email address.", ['john@doe.com']), breaking: true },
        ],
      },
    });
    assert.deepEqual(diff['SLACK_SEND_MESSAGE'], {
      schema: {
        breaking: true,
        changes: [
          { kind: 'field_removed', path: 'as_user', from: { type: 'boolean', title: 'As User', description: 'Post as the authenticated user rather than the bot.', default: false }, breaking: true },
          { kind: 'field_added', path: 'markdown_text', to: str('Markdown Text', 'The message as Markdown, instead of text.'), breaking: false },
        ],
      },
    });
    assert.deepEqual(diff['HUBSPOT_CREATE_CONTACT'], {
      schema: { breaking: true, changes: [{ kind: 'type_changed', path: 'phone', from: ['string'], to: ['array'], breaking: true }] },
    });
    // One run per toolkit; each row names its run.
    const runs = new Map(report.toolkits.map((t) => [t.toolkit, t.runId]));
    assert.deepEqual(rows.map((r) => r.run_id), [runs.get('gmail'), runs.get('hubspot'), runs.get('slack')]);
    // The other tools only moved version: stored at V2, current, no row.
    assert.deepEqual(report.toolkits.map((t) => [t.toolkit, t.changed, t.version_only, t.breaking]), [['gmail', 1, 3, 1], ['hubspot', 1, 2, 1], ['slack', 1, 2, 1]]);
    assert.equal((await new SqlCatalogService(ctx().service()).get(tenant, 'GMAIL_FETCH_EMAILS')).version, V2);
    const current = (await storedCatalog(ctx(), tenant)).filter((r) => r.version === V2);
    assert.deepEqual(current, (await expectedCatalog(harness.client, ['gmail', 'hubspot', 'slack'])));
    // The run's audit_log entries, one per toolkit, say what happened.
    const entries = (await auditRows(ctx(), tenant, 'catalog')).slice(3);
    assert.deepEqual(entries.map((e) => [e.actor_id, e.payload.toolkit, e.payload.changed, e.payload.version_only, e.payload.breaking, e.payload.baseline]), [
      ['catalog-sync', 'gmail', 1, 3, 1, false], ['catalog-sync', 'hubspot', 1, 2, 1, false], ['catalog-sync', 'slack', 1, 2, 1, false],
    ]);

    // Nothing changed since: no catalog_audit row, no audit_log row.
    await sync(tenant);
    assert.equal((await drift(tenant)).length, 3);
    assert.equal((await auditRows(ctx(), tenant, 'catalog')).length, 6);
  });

  it('a breaking change holds the tool\'s pending envelopes for approval, audited; others are left alone', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['gmail', 'slack']);
    await sync(tenant);
    const send = await enqueue(tenant, 'GMAIL_SEND_EMAIL');
    const approved = await enqueue(tenant, 'SLACK_SEND_MESSAGE');
    const draft = await enqueue(tenant, 'GMAIL_CREATE_EMAIL_DRAFT'); // only its version moves
    const done = await enqueue(tenant, 'GMAIL_SEND_EMAIL');
    // An earlier approval was given against the old schema: it must not carry over.
    await ctx().test.owner.transaction(async (tx) => {
      await tx.query(`update outbox set approved_at = now(), approved_by = 'alice' where id = $1`, [approved]);
      await tx.query(`update outbox set status = 'success' where id = $1`, [done]);
    });

    harness.fake.setCatalogVersion(2);
    const report = await sync(tenant);
    assert.deepEqual(report.toolkits.map((t) => [t.toolkit, t.flagged]), [['gmail', 1], ['slack', 1]]);
    const [gmailRow] = (await drift(tenant)).filter((r) => r.tool_slug === 'GMAIL_SEND_EMAIL');

    for (const id of [send, approved]) {
      const e = await envelope(id);
      assert.deepEqual([e.status, e.approved_at, e.approved_by], ['awaiting_approval', null, null]);
      assert.match(e.last_error ?? '', /^held for approval: breaking change to the schema of \w+, 20250909_00 → 20251120_00 \(catalog_audit \d+\)$/);
      const last = (await outboxAudit(id)).at(-1)!;
      assert.deepEqual([last.actor_type, last.actor_id], ['system', 'catalog-sync']);
      assert.deepEqual({ ...last.payload, catalog_audit_id: undefined, reason: undefined }, {
        envelope_id: id, tool_slug: e.tool_slug, transition: 'flag_for_approval', from: 'pending', to: 'awaiting_approval', attempt: 0,
        catalog_audit_id: undefined, reason: undefined,
      });
    }
    assert.equal((await outboxAudit(send)).at(-1)!.payload.catalog_audit_id, gmailRow!.id);
    assert.equal((await envelope(draft)).status, 'pending');
    assert.equal((await envelope(done)).status, 'success');

    // A person decides, as for any envelope awaiting approval.
    const decided = await ctx().db.asService(async (tx) => (await tx.query<{ status: string }>('select (public.approve_envelope($1, $2)).status', [send, 'arguments checked'])).rows[0]!);
    assert.equal(decided.status, 'pending');
  });

  it('a tool Composio stops listing is marked removed (breaking, envelopes held); listed again, it is re-added', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['github']);
    harness.fake.setSyntheticTools({ github: 3 });
    await sync(tenant);
    const held = await enqueue(tenant, 'GITHUB_CREATE_SYNTHETIC_003');

    harness.fake.setSyntheticTools({ github: 1 });
    const removedRun = await sync(tenant);
    assert.deepEqual(removedRun.toolkits.map((t) => [t.removed, t.unchanged, t.flagged]), [[2, 3, 1]]);
    const gone = (await drift(tenant)).map((r) => [r.tool_slug, r.change, r.from_version, r.to_version, r.breaking, r.diff]);
    assert.deepEqual(gone, [
      ['GITHUB_CREATE_SYNTHETIC_003', 'removed', V1, null, true, {}],
      ['GITHUB_GET_SYNTHETIC_002', 'removed', V1, null, true, {}],
    ]);
    const catalog = await storedCatalog(ctx(), tenant);
    assert.deepEqual(catalog.filter((r) => r.removed).map((r) => r.tool_slug), ['GITHUB_CREATE_SYNTHETIC_003', 'GITHUB_GET_SYNTHETIC_002']);
    assert.equal(catalog.length, 5, 'kept, not deleted');
    assert.match((await envelope(held)).last_error ?? '', /^held for approval: tool GITHUB_CREATE_SYNTHETIC_003 was removed/);

    // Still gone: nothing new.
    await sync(tenant);
    assert.equal((await drift(tenant)).length, 2);

    harness.fake.setSyntheticTools({ github: 3 });
    await sync(tenant);
    const back = (await drift(tenant)).filter((r) => r.change === 'added').map((r) => [r.tool_slug, r.from_version, r.to_version, r.breaking, r.diff]);
    assert.deepEqual(back, [
      ['GITHUB_CREATE_SYNTHETIC_003', V1, V1, false, { readded: true }],
      ['GITHUB_GET_SYNTHETIC_002', V1, V1, false, { readded: true }],
    ]);
    assert.deepEqual((await storedCatalog(ctx(), tenant)).filter((r) => r.removed), []);
  });

  it('tools added to a toolkit already in the catalog are drift (added rows); a toolkit going back a version makes that version current', async () => {
    const tenant = await tenantWithAccounts(ctx(), ['hubspot']);
    await sync(tenant);
    harness.fake.setSyntheticTools({ hubspot: 1 });
    await sync(tenant);
    assert.deepEqual((await drift(tenant)).map((r) => [r.tool_slug, r.change, r.from_version, r.to_version]), [['HUBSPOT_LIST_SYNTHETIC_001', 'added', null, V1]]);

    harness.fake.setCatalogVersion(2);
    await sync(tenant);
    harness.fake.setCatalogVersion(1);
    const back = await sync(tenant);
    assert.deepEqual(back.toolkits.map((t) => [t.changed, t.version_only]), [[1, 3]]);
    const catalog = new SqlCatalogService(ctx().service());
    for (const slug of ['HUBSPOT_CREATE_CONTACT', 'HUBSPOT_CREATE_DEAL', 'HUBSPOT_LIST_SYNTHETIC_001']) {
      assert.equal((await catalog.get(tenant, slug)).version, V1, slug);
    }
    const contact = (await drift(tenant)).filter((r) => r.tool_slug === 'HUBSPOT_CREATE_CONTACT').map((r) => [r.from_version, r.to_version, r.diff.schema?.changes[0]?.kind]);
    assert.deepEqual(contact, [[V1, V2, 'type_changed'], [V2, V1, 'type_changed']]);
  });

  it('drift snapshots are readable by their tenant only (RLS), and filter by run, tool and breaking', async () => {
    const a = await tenantWithAccounts(ctx(), ['slack']);
    const b = await tenantWithAccounts(ctx(), ['slack']);
    await sync(a);
    await sync(b);
    harness.fake.setCatalogVersion(2);
    const report = await sync(a);

    const asA = await listCatalogDrift(ctx().tenant({ tenant_id: a }));
    assert.deepEqual(asA.map((r) => [r.tenant_id, r.tool_slug]), [[a, 'SLACK_SEND_MESSAGE']]);
    assert.deepEqual(await listCatalogDrift(ctx().tenant({ tenant_id: b })), []);
    assert.deepEqual(await listCatalogDrift(ctx().tenant({ tenant_id: b }), { tenant_id: a }), []);
    assert.deepEqual(await listCatalogDrift(ctx().tenant({})), []);
    const byRun = await listCatalogDrift(ctx().service(), { run_id: report.toolkits[0]!.runId, breaking: true, tool_slug: 'SLACK_SEND_MESSAGE' });
    assert.deepEqual(byRun.map((r) => r.tenant_id), [a]);
    assert.deepEqual(await listCatalogDrift(ctx().service(), { run_id: report.toolkits[0]!.runId, breaking: false }), []);
    // Tenants read the snapshots; they never write them.
    await rejectsWith(ctx().db.asTenant({ tenant_id: a }, (tx) => tx.query(`insert into catalog_audit (tenant_id, tool_slug, change) values ($1, 'X', 'added')`, [a])), 'forbidden');
    await rejectsWith(listCatalogDrift(ctx().service(), { run_id: 'nope' }), 'invalid_input', 'run_id');
    assert.equal(await count(ctx(), 'select from catalog_audit where tenant_id = $1', [b]), 0);
  });
});
