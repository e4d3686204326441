import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DefaultEmbedder } from '../../src/evidence/embedders/default-embedder.ts';
import { HashingEmbedder } from '../../src/evidence/embedders/hashing-embedder.ts';
import { rowsToEmbed, writeEmbeddings } from '../../src/evidence/evidence-queries.ts';
import { collectEvidence } from '../../src/evidence/ingest.ts';
import { addEvidence } from '../../src/evidence/ingest-notes.ts';
import { evidenceReindexHandler } from '../../src/evidence/reindex-handler.ts';
import { reindexEvidence, type ReindexProgress } from '../../src/evidence/reindex.ts';
import { toVectorLiteral } from '../../src/evidence/vector-literal.ts';
import type { OutboxEnvelope } from '../../src/services/outbox-service.ts';
import { serviceAccess, tenantAccess } from '../../src/services/access.ts';
import { forEachEngine } from '../support/engines.ts';

const T = 'f1f1f1f1-0000-4000-8000-000000000001'; // evidence_insert_scopes {finance:write}
const U = 'f2f2f2f2-0000-4000-8000-000000000002'; // evidence_insert_scopes {}
const E = {
  sent: 'e0000000-0000-4000-8000-000000000001',
  denied: 'e0000000-0000-4000-8000-000000000002',
  approved: 'e0000000-0000-4000-8000-000000000003',
  blocked: 'e0000000-0000-4000-8000-000000000004',
  pending: 'e0000000-0000-4000-8000-000000000005',
  dead: 'e0000000-0000-4000-8000-000000000006',
};
const LONG_BODY = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the renewal terms for account ${i} were discussed and the customer agreed to a twelve month extension.`).join(' ');

interface Row {
  source_type: string;
  source_id: string;
  chunk_index: number;
  content: string;
  metadata: Record<string, unknown>;
  embedding_model: string | null;
}

forEachEngine('evidence ingestion and re-indexing', (ctx) => {
  before(async () => {
    await ctx().owner.transaction(async (tx) => {
      await tx.query(`insert into public.tenants (id, name) values ($1, 'T'), ($2, 'U')`, [T, U]);
      await tx.query(`insert into public.guardrails (tenant_id, trust_threshold, evidence_insert_scopes) values ($1, 0.8, '{finance:write}'), ($2, 0.8, '{}')`, [T, U]);
      const envelope = `insert into public.outbox (id, tenant_id, tool_slug, arguments, risk, trust_context, status, attempts, last_error, result, approved_at, approved_by)
                        values ($1, $2, $3, $4::jsonb, 'medium', $5::jsonb, $6, 1, $7, $8::jsonb, $9, $10)`;
      await tx.query(envelope, [E.sent, T, 'GMAIL__messages.send', '{"to": "cfo@example.com", "subject": "Renewal terms"}', '{"score": 0.91}', 'success', null, JSON.stringify({ id: 'msg-1', message: { subject: 'Renewal terms', body: LONG_BODY } }), null, null]);
      await tx.query(envelope, [E.denied, T, 'GMAIL__messages.send', '{"to": "everyone@example.com", "subject": "Prices"}', '{"score": 0.4}', 'rejected', 'rejected: wrong recipient', null, null, null]);
      await tx.query(envelope, [E.approved, T, 'SLACK__chat.postMessage', '{"channel": "#finance", "text": "Invoice 7 paid"}', '{"score": 0.6}', 'success', null, '{"ok": true}', new Date(), 'ops@example.com']);
      await tx.query(envelope, [E.blocked, T, 'HUBSPOT__deals.update', '{"deal_id": "D-9"}', '{"score": 0.95}', 'rejected', 'HUBSPOT is not in the tenant\'s allowed toolkits', null, null, null]);
      await tx.query(envelope, [E.pending, T, 'SLACK__chat.postMessage', '{"channel": "#general", "text": "later"}', '{}', 'pending', null, null, null, null]);
      await tx.query(
        `insert into public.outbox_dlq (id, tenant_id, tool_slug, arguments, external_id, trust_context, attempts, last_error)
         values ($1, $2, 'GMAIL__drafts.create', '{"to": "x@example.com"}', 'dlq-1', '{"score": 0.85}', 3, 'HTTP 401: account expired')`,
        [E.dead, U],
      );
      await tx.query(
        `insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload) values
           ($1, 'worker', 'w1', 'outbox', $2::jsonb), ($1, 'worker', 'w1', 'outbox', $3::jsonb), ($1, 'operator', 'ops', 'approval', $4::jsonb)`,
        [T, JSON.stringify({ envelope_id: E.sent, transition: 'claim', from: 'pending', to: 'in_progress' }),
          JSON.stringify({ envelope_id: E.sent, transition: 'succeed', from: 'in_progress', to: 'success', latency_ms: 120 }),
          JSON.stringify({ envelope_id: E.denied, transition: 'deny', reason: 'wrong recipient' })],
      );
    });
  });

  const rows = async (where = 'true'): Promise<Row[]> =>
    (await ctx().owner.transaction((tx) =>
      tx.query<Row>(`select source_type, source_id, chunk_index, content, metadata, embedding_model from public.evidence_embeddings where ${where} order by source_type, source_id, chunk_index`),
    )).rows;

  describe('collection', () => {
    it('turns proposals, tool outputs and audit entries into evidence rows with their sources', async () => {
      const report = await collectEvidence(serviceAccess(ctx().db), { batchSize: 2 });
      assert.deepEqual(report.proposal, { sources: 5, chunks: 5 });
      assert.equal(report.tool_output?.sources, 2);
      assert.ok(report.tool_output.chunks >= 4, 'the long output is chunked');
      assert.deepEqual(report.audit, { sources: 2, chunks: 2 }, 'the claim transition is left out');
      const all = await rows();
      assert.ok(all.every((r) => r.embedding_model === null), 'embedded later, never at collection');
    });

    it('records what became of each proposal', async () => {
      const decisions = Object.fromEntries((await rows(`source_type = 'proposal'`)).map((r) => [r.source_id, [r.metadata.decision, r.metadata.outcome]]));
      assert.deepEqual(decisions, {
        [E.sent]: ['auto', 'succeeded'],
        [E.denied]: ['rejected', 'rejected'],
        [E.approved]: ['approved', 'succeeded'],
        [E.blocked]: ['blocked', 'rejected'],
        [E.dead]: ['auto', 'failed'],
      });
      const [denied] = await rows(`source_id = '${E.denied}'`);
      assert.equal(denied!.content, 'Proposal GMAIL__messages.send (risk medium)\nto: everyone@example.com\nsubject: Prices\ntrust score: 0.4\nOutcome: rejected by a person: rejected: wrong recipient');
      assert.equal(denied!.metadata.trust_score, 0.4);
    });

    it('chunks a long output into pieces of at most 1200 characters, each naming its source', async () => {
      const chunks = await rows(`source_type = 'tool_output' and source_id = '${E.sent}'`);
      assert.ok(chunks.length >= 4);
      assert.deepEqual(chunks.map((c) => c.chunk_index), chunks.map((_, i) => i));
      for (const c of chunks) {
        assert.ok(c.content.length <= 1200, `${c.content.length}`);
        assert.ok(c.content.startsWith('Tool output of GMAIL__messages.send (success)\n'));
      }
      const text = chunks.map((c) => c.content.split('\n').slice(1).join('\n')).join(' ');
      for (let i = 0; i < 40; i++) assert.ok(text.includes(`Paragraph ${i}:`), `paragraph ${i} kept`);
    });

    it('collecting again writes nothing; a new outcome or a changed result is collected again', async () => {
      const again = await collectEvidence(serviceAccess(ctx().db));
      assert.ok(Object.values(again).every((c) => c.sources === 0));
      await ctx().owner.transaction(async (tx) => {
        await tx.query(`update public.outbox set status = 'success', result = '{"ok": true, "ts": "1.2"}' where id = $1`, [E.pending]);
        await tx.query(`update public.outbox set result = '{"id": "msg-1", "note": "shortened"}' where id = $1`, [E.sent]);
      });
      const next = await collectEvidence(serviceAccess(ctx().db));
      assert.equal(next.proposal?.sources, 2, 'the new success, and the changed envelope');
      assert.equal(next.tool_output?.sources, 2);
      const sent = await rows(`source_type = 'tool_output' and source_id = '${E.sent}'`);
      assert.deepEqual(sent.map((r) => r.content), ['Tool output of GMAIL__messages.send (success)\nid: msg-1\nnote: shortened'], 'stale chunks removed');
    });
  });

  describe('re-indexing', () => {
    it('embeds every row without an embedding, in batches, reporting progress', async () => {
      const hashing = new HashingEmbedder();
      const seen: ReindexProgress[] = [];
      const report = await reindexEvidence(ctx().db, hashing, { batchSize: 4, onProgress: (p) => seen.push(p) });
      const total = (await rows()).length;
      assert.equal(report.total, total);
      assert.equal(report.embedded, total);
      assert.equal(report.remaining, 0);
      assert.equal(report.model, hashing.modelId);
      assert.deepEqual(seen[0], { model: hashing.modelId, total, embedded: 0, skipped: 0 });
      assert.equal(seen.length, 1 + Math.ceil(total / 4));
      assert.ok(seen.every((p, i) => i === 0 || p.embedded > seen[i - 1]!.embedded));
      assert.ok((await rows()).every((r) => r.embedding_model === hashing.modelId));
      const idle = await reindexEvidence(ctx().db, hashing);
      assert.equal(idle.embedded, 0);
    });

    it('switching models re-embeds every row (with a budget per run) rather than mixing', async () => {
      const next = new DefaultEmbedder();
      const total = (await rows()).length;
      const first = await reindexEvidence(ctx().db, next, { limit: 5, batchSize: 2 });
      assert.deepEqual([first.total, first.embedded, first.remaining], [total, 5, total - 5]);
      const rest = await reindexEvidence(ctx().db, next);
      assert.deepEqual([rest.embedded, rest.remaining], [total - 5, 0]);
      const models = new Set((await rows()).map((r) => r.embedding_model));
      assert.deepEqual([...models], [next.modelId]);
    });

    it('a row rewritten while its batch was being embedded is not written with the stale vector', async () => {
      await ctx().owner.transaction((tx) => tx.query(`update public.evidence_embeddings set embedding = null, embedding_model = null where source_id = $1`, [E.approved]));
      const hashing = new HashingEmbedder();
      const [stale] = await ctx().db.asService((tx) => rowsToEmbed(tx, hashing.modelId, null, 1, T));
      assert.ok(stale);
      await ctx().owner.transaction((tx) => tx.query(`update public.evidence_embeddings set content = content || ' (edited)' where id = $1`, [stale.id]));
      const [v] = await hashing.embed([stale.content]);
      const written = await ctx().db.asService((tx) => writeEmbeddings(tx, hashing.modelId, [{ id: stale.id, content_md5: stale.content_md5, vector: toVectorLiteral(v!) }]));
      assert.equal(written, 0);
    });

    it('runs as the worker\'s steward.evidence.reindex system handler', async () => {
      const handler = evidenceReindexHandler(ctx().db, new HashingEmbedder());
      const { result } = await handler({ arguments: { limit: 2 } } as unknown as OutboxEnvelope, { idempotencyKey: 'k', signal: new AbortController().signal });
      const report = result as { embedded: number; model: string };
      assert.equal(report.embedded, 2);
      assert.equal(report.model, new HashingEmbedder().modelId);
    });

    it('a tenant\'s steward.evidence.reindex envelope embeds that tenant\'s rows only', async () => {
      const hashing = new HashingEmbedder();
      await reindexEvidence(ctx().db, hashing); // nothing left from earlier tests
      const service = serviceAccess(ctx().db);
      const mine = await addEvidence(service, { tenant_id: T, content: 'a note of T', metadata: {} });
      const theirs = await addEvidence(service, { tenant_id: U, content: 'a note of U', metadata: {} });
      const handler = evidenceReindexHandler(ctx().db, hashing);
      await handler({ tenant_id: T, arguments: {} } as unknown as OutboxEnvelope, { idempotencyKey: 'k', signal: new AbortController().signal });
      const embedded = await ctx().db.asService(async (tx) => (await tx.query<{ id: string; done: boolean }>(
        'select id::text, embedding is not null as done from evidence_embeddings where id = any($1::uuid[])', [[mine.id, theirs.id]])).rows);
      assert.deepEqual(Object.fromEntries(embedded.map((r) => [r.id, r.done])), { [String(mine.id)]: true, [String(theirs.id)]: false });
    });
  });

  describe('scope-gated writes (notes)', () => {
    const note = (tenant: string) => ({ tenant_id: tenant, content: `A note for ${tenant}`, metadata: { by: 'ops' } });

    it('a token carrying the tenant\'s evidence scope (finance:write) adds a note', async () => {
      const added = await addEvidence(tenantAccess(ctx().db, { tenant_id: T, scopes: ['finance:write'] }), note(T));
      assert.equal(added.tenant_id, T);
      assert.equal(added.source_type, 'note');
    });

    it('a token without it is forbidden, and nothing is written', async () => {
      const before = (await rows(`source_type = 'note'`)).length;
      await assert.rejects(addEvidence(tenantAccess(ctx().db, { tenant_id: T }), note(T)), { code: 'forbidden', field: 'scopes' });
      await assert.rejects(addEvidence(tenantAccess(ctx().db, { tenant_id: T, scopes: ['finance:read'] }), note(T)), { code: 'forbidden', field: 'scopes' });
      // U's guardrails name no scope: no token may add its evidence.
      await assert.rejects(addEvidence(tenantAccess(ctx().db, { tenant_id: U, scopes: ['finance:write'] }), note(U)), { code: 'forbidden', field: 'scopes' });
      // Another tenant's token, even with the scope.
      await assert.rejects(addEvidence(tenantAccess(ctx().db, { tenant_id: U, scopes: ['finance:write'] }), note(T)), { code: 'forbidden', field: 'tenant_id' });
      assert.equal((await rows(`source_type = 'note'`)).length, before);
    });

    it('the service role adds evidence for any tenant; input is checked first', async () => {
      const added = await addEvidence(serviceAccess(ctx().db), { ...note(U), source_type: 'document', source_id: 'doc-1' });
      assert.equal(added.source_id, 'doc-1');
      await assert.rejects(addEvidence(serviceAccess(ctx().db), { tenant_id: U, content: '  ' }), { code: 'invalid_input', field: 'content' });
      await assert.rejects(addEvidence(serviceAccess(ctx().db), { tenant_id: U, content: 'x', source_type: 'audit' as never }), { code: 'invalid_input', field: 'source_type' });
    });
  });
});
