import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildContext } from '../../src/evidence/context-builder.ts';
import { HashingEmbedder } from '../../src/evidence/embedders/hashing-embedder.ts';
import { addEvidence } from '../../src/evidence/ingest-notes.ts';
import { evidenceForProposal } from '../../src/evidence/proposal-evidence.ts';
import { reindexEvidence } from '../../src/evidence/reindex.ts';
import { SqlTrustSuggestionService } from '../../src/evidence/trust-suggestion-service.ts';
import { serviceAccess, tenantAccess } from '../../src/services/access.ts';
import { forEachEngine } from '../support/engines.ts';

// The four use cases on top of search: evidence for a proposal, guardrail learning,
// (search itself: search.test.ts) and context for a prompt. The hashing embedder keeps
// these about the plumbing; search.test.ts shows the semantic quality.

const A = 'c1c1c1c1-0000-4000-8000-0000000000a1';
const B = 'c2c2c2c2-0000-4000-8000-0000000000b2';
const NEW = 'd0000000-0000-4000-8000-00000000000e';
const embedder = new HashingEmbedder();

forEachEngine('evidence use cases', (ctx) => {
  before(async () => {
    await ctx().owner.transaction(async (tx) => {
      await tx.query(`insert into public.tenants (id, name) values ($1, 'A'), ($2, 'B')`, [A, B]);
      await tx.query(`insert into public.guardrails (tenant_id, trust_threshold) values ($1, 0.8), ($2, 0.8)`, [A, B]);
      const env = `insert into public.outbox (tenant_id, tool_slug, arguments, trust_context, status, last_error, approved_at, approved_by, result)
                   values ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9::jsonb)`;
      for (const [i, score] of [0.62, 0.66, 0.7].entries()) {
        await tx.query(env, [A, 'GMAIL__drafts.create', JSON.stringify({ to: `customer${i}@example.com`, subject: 'Renewal check-in', body: 'Checking in on your renewal this quarter.' }), JSON.stringify({ score }), 'success', null, new Date(), 'ops@example.com', '{"id": "draft"}']);
      }
      await tx.query(env, [A, 'SLACK__chat.postMessage', '{"channel": "#random", "text": "lunch order for the team"}', '{"score": 0.5}', 'rejected', 'rejected: not work related', null, null, null]);
      await tx.query(
        `insert into public.outbox (id, tenant_id, tool_slug, arguments, trust_context, status) values ($1, $2, 'GMAIL__drafts.create', $3::jsonb, '{"score": 0.75}', 'awaiting_approval')`,
        [NEW, A, JSON.stringify({ to: 'customer9@example.com', subject: 'Renewal check-in', body: 'Checking in on your renewal.' })],
      );
      // Tenant B has an identical history: it must never show up for A.
      await tx.query(env, [B, 'GMAIL__drafts.create', JSON.stringify({ to: 'b@example.com', subject: 'Renewal check-in', body: 'Checking in on your renewal this quarter.' }), '{"score": 0.9}', 'rejected', 'rejected: B says no', null, null, null]);
    });
    const service = serviceAccess(ctx().db);
    await addEvidence(service, { tenant_id: A, content: 'Customer asked that renewal check-in emails go to their billing contact.' });
    await addEvidence(service, { tenant_id: A, content: 'Renewal   check-in emails are fine to draft  without asking.' });
    await addEvidence(service, { tenant_id: A, content: 'renewal check-in emails are fine to draft without asking.' });
    await reindexEvidence(ctx().db, embedder);
  });

  describe('evidence for a proposal', () => {
    it('finds related history of the same tenant, leaving the envelope itself out', async () => {
      const found = await evidenceForProposal(serviceAccess(ctx().db), embedder, { envelope_id: NEW, limit: 5 });
      assert.match(found.query, /^Proposal GMAIL__drafts\.create \(risk medium\)\nto: customer9@example\.com/);
      assert.equal(found.evidence.length, 5);
      assert.ok(found.evidence.every((h) => h.tenant_id === A && h.source_id !== NEW));
      assert.ok(found.evidence.slice(0, 3).some((h) => h.source_type === 'proposal'), 'past renewal proposals rank high');
    });

    it("another tenant's token cannot see the envelope: not found", async () => {
      await assert.rejects(evidenceForProposal(tenantAccess(ctx().db, { tenant_id: B }), embedder, { envelope_id: NEW }), { code: 'not_found', field: 'envelope_id' });
      const own = await evidenceForProposal(tenantAccess(ctx().db, { tenant_id: A }), embedder, { envelope_id: NEW, limit: 3 });
      assert.equal(own.evidence.length, 3);
    });
  });

  describe('guardrail learning', () => {
    const service = () => new SqlTrustSuggestionService(serviceAccess(ctx().db), embedder);
    const threshold = async () => (await ctx().owner.transaction((tx) => tx.query<{ t: number }>('select trust_threshold::float8 as t from public.guardrails where tenant_id = $1', [A]))).rows[0]!.t;

    it('records the most similar past decisions and a suggested adjustment with reasons, leaving the threshold alone', async () => {
      const s = await service().suggest({ envelope_id: NEW, neighbours: 5 });
      assert.equal(s.tenant_id, A);
      assert.equal(s.status, 'open');
      assert.equal(s.current_threshold, 0.8);
      assert.ok(s.adjustment < 0, `adjustment ${s.adjustment}`);
      assert.equal(s.suggested_threshold, Math.round((0.8 + s.adjustment) * 100) / 100);
      assert.equal(s.neighbours.filter((n) => n.decision === 'approved').length, 3);
      assert.ok(s.neighbours.every((n) => n.envelope_id !== NEW));
      assert.ok(s.reasons.some((r) => /3 similar past proposals were approved by a person/.test(r)), s.reasons.join('\n'));
      assert.ok(s.reasons.some((r) => /as low as 0\.62, below the threshold 0\.80/.test(r)));
      assert.equal(await threshold(), 0.8);
    });

    it('asking again replaces the open suggestion; a review is recorded once and changes nothing else', async () => {
      const again = await service().suggest({ envelope_id: NEW });
      const open = await service().list({ tenant_id: A, status: 'open' });
      assert.deepEqual(open.map((s) => s.id), [again.id]);
      const reviewed = await service().review({ id: again.id, status: 'accepted', reviewer: 'ops', note: 'looks right' });
      assert.equal(reviewed.status, 'accepted');
      assert.ok(reviewed.reviewed_at instanceof Date);
      await assert.rejects(service().review({ id: again.id, status: 'dismissed', reviewer: 'ops' }), { code: 'conflict' });
      assert.equal(await threshold(), 0.8);
    });

    it('tenants read their own suggestions and cannot record any', async () => {
      const a = new SqlTrustSuggestionService(tenantAccess(ctx().db, { tenant_id: A }), embedder);
      assert.ok((await a.list()).length > 0);
      assert.deepEqual(await new SqlTrustSuggestionService(tenantAccess(ctx().db, { tenant_id: B }), embedder).list(), []);
      await assert.rejects(a.suggest({ envelope_id: NEW }), { code: 'forbidden' });
    });
  });

  describe('context for a prompt', () => {
    it('returns ranked, de-duplicated snippets with their sources within the token budget', async () => {
      const c = await buildContext(serviceAccess(ctx().db), embedder, { tenant_id: A, query: 'renewal check-in emails', budget_tokens: 200 });
      assert.ok(c.snippets.length >= 2);
      assert.ok(c.used_tokens <= 200);
      assert.equal(c.used_tokens, c.snippets.reduce((n, s) => n + s.tokens, 0));
      assert.deepEqual(c.snippets.map((s) => s.rank), c.snippets.map((_, i) => i + 1));
      assert.ok(c.snippets.every((s) => s.source.evidence_id && s.source.type && s.tokens === Math.ceil(s.content.length / 4)));
      const fine = c.snippets.filter((s) => /fine to draft/i.test(s.content));
      assert.equal(fine.length, 1, 'the same note written twice appears once');
      const tiny = await buildContext(serviceAccess(ctx().db), embedder, { tenant_id: A, query: 'renewal check-in emails', budget_tokens: 20 });
      assert.ok(tiny.used_tokens <= 20);
    });
  });
});
