import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DefaultEmbedder } from '../../src/evidence/embedders/default-embedder.ts';
import { HashingEmbedder } from '../../src/evidence/embedders/hashing-embedder.ts';
import type { EvidenceHit } from '../../src/evidence/evidence-types.ts';
import { SqlEvidenceSearch, type SearchInput } from '../../src/evidence/search-service.ts';
import { toVectorLiteral } from '../../src/evidence/vector-literal.ts';
import { serviceAccess, tenantAccess } from '../../src/services/access.ts';
import { forEachEngine } from '../support/engines.ts';
import { CORPUS, KEYWORD_QUERIES, SEMANTIC_QUERIES, TENANT_A, TENANT_B } from './fixtures/corpus.ts';

// Acceptance: semantic, keyword and hybrid search find the labelled answers on both
// engines; a tenant's token never sees another tenant's rows; only rows of the active
// model are compared; filters narrow by source type, time and metadata.

const NOW = new Date('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const embedder = new DefaultEmbedder();

forEachEngine('evidence search', (ctx) => {
  const keyOf = new Map<string, string>(); // evidence id → corpus key

  before(async () => {
    const vectors = await embedder.embed(CORPUS.map((c) => c.content));
    const other = await new HashingEmbedder().embed(CORPUS.map((c) => c.content));
    await ctx().owner.transaction(async (tx) => {
      await tx.query(`insert into public.tenants (id, name) values ($1, 'A'), ($2, 'B')`, [TENANT_A, TENANT_B]);
      for (const [i, c] of CORPUS.entries()) {
        const res = await tx.query<{ id: string }>(
          `insert into public.evidence_embeddings (tenant_id, source_type, source_id, content, metadata, embedding, embedding_model, created_at)
           values ($1, $2, $3, $4, $5::jsonb, $6::extensions.vector, $7, $8) returning id`,
          [c.tenant, c.source_type, c.key, c.content, JSON.stringify(c.metadata ?? {}), toVectorLiteral(vectors[i]!), embedder.modelId, new Date(NOW.getTime() - c.age_days * DAY)],
        );
        keyOf.set(res.rows[0]!.id, c.key);
      }
      // The same texts under another model: semantic search must never return them.
      for (const [i, c] of CORPUS.entries()) {
        await tx.query(
          `insert into public.evidence_embeddings (tenant_id, source_type, content, embedding, embedding_model, created_at)
           values ($1, 'document', $2, $3::extensions.vector, $4, $5)`,
          [c.tenant, `other model: ${c.content}`, toVectorLiteral(other[i]!), 'some-other-model', NOW],
        );
      }
    });
  });

  const keys = (hits: EvidenceHit[]) => hits.map((h) => keyOf.get(h.id) ?? `other:${h.content.slice(0, 20)}`);
  const asTenant = (tenant: string) => new SqlEvidenceSearch(tenantAccess(ctx().db, { tenant_id: tenant }), embedder);
  const asService = () => new SqlEvidenceSearch(serviceAccess(ctx().db), embedder);
  const search = (tenant: string, input: SearchInput) => asTenant(tenant).search(input);

  it('semantic: each paraphrase finds its answer first, with every metric', async () => {
    for (const q of SEMANTIC_QUERIES) {
      for (const metric of ['cosine', 'inner_product', 'l2'] as const) {
        const hits = await search(q.tenant, { query: q.query, mode: 'semantic', metric, limit: 3 });
        assert.equal(keys(hits)[0], q.expect, `${q.query} (${metric}): ${keys(hits).join(', ')}`);
        assert.deepEqual(hits.map((h) => h.semantic_rank), [1, 2, 3]);
        assert.ok(hits[0]!.score >= hits[1]!.score && hits[1]!.score >= hits[2]!.score);
      }
    }
  });

  it('semantic: the metrics report their own values for the same ranking', async () => {
    const q = { query: 'client settled the late bill', mode: 'semantic' as const, limit: 1 };
    const [cos] = await search(TENANT_A, { ...q, metric: 'cosine' });
    const [ip] = await search(TENANT_A, { ...q, metric: 'inner_product' });
    const [l2] = await search(TENANT_A, { ...q, metric: 'l2' });
    assert.ok(Math.abs(cos!.score - ip!.score) < 1e-5, 'unit vectors: cosine = inner product');
    assert.ok(Math.abs(l2!.distance! - Math.sqrt(2 - 2 * cos!.score)) < 1e-4, 'unit vectors: L2 = √(2 − 2cos)');
    assert.ok(Math.abs(cos!.distance! - (1 - cos!.score)) < 1e-9);
  });

  it('keyword: websearch syntax (words, "phrases", -exclusions) finds exactly the matching rows', async () => {
    for (const q of KEYWORD_QUERIES) {
      const hits = await search(q.tenant, { query: q.query, mode: 'keyword', limit: 10 });
      assert.deepEqual(keys(hits).filter((k) => !k.startsWith('other:')).sort(), [...q.expect].sort(), q.query);
      assert.ok(hits.every((h) => h.keyword_rank !== null && h.semantic_rank === null));
    }
  });

  it('hybrid: a row both halves rank high comes first; rows only one half finds are still fused in', async () => {
    const hits = await search(TENANT_A, { query: 'customer paid invoice', mode: 'hybrid', limit: 5 });
    assert.equal(keys(hits)[0], 'A-invoice');
    assert.ok(hits[0]!.semantic_rank !== null && hits[0]!.keyword_rank !== null);
    assert.ok(hits.some((h) => h.keyword_rank === null), 'semantic-only rows appear too');
    // A paraphrase has no keyword match: hybrid still answers it through the semantic half.
    const para = await search(TENANT_A, { query: 'money returned to a buyer for a broken package', mode: 'hybrid', limit: 3 });
    assert.equal(keys(para)[0], 'A-refund');
  });

  it('hybrid: weights steer the fusion; a zero weight switches a half off', async () => {
    const keywordOnly = await search(TENANT_A, { query: 'emails', mode: 'hybrid', limit: 10, semantic_weight: 0 });
    assert.ok(keywordOnly.every((h) => h.semantic_rank === null && h.keyword_rank !== null));
    const semanticOnly = await search(TENANT_A, { query: 'emails', mode: 'hybrid', limit: 4, keyword_weight: 0 });
    assert.ok(semanticOnly.every((h) => h.keyword_rank === null && h.semantic_rank !== null));
    assert.equal(semanticOnly.length, 4);
  });

  it("tenant B's queries never return tenant A's rows, in any mode (RLS)", async () => {
    const a = new Set(CORPUS.filter((c) => c.tenant === TENANT_A).map((c) => c.key));
    for (const mode of ['semantic', 'keyword', 'hybrid'] as const) {
      for (const query of ['customer paid the overdue invoice', 'client settled the late bill', 'pricing plan', 'emails']) {
        const hits = await search(TENANT_B, { query, mode, limit: 50 });
        assert.ok(hits.every((h) => h.tenant_id === TENANT_B), `${mode} ${query}`);
        assert.ok(keys(hits).every((k) => !a.has(k)));
      }
    }
    // Asking for tenant A explicitly does not help a B token.
    assert.deepEqual(await search(TENANT_B, { query: 'invoice', mode: 'keyword', tenant_id: TENANT_A }), []);
    // Without a tenant claim there is nothing to see.
    const none = new SqlEvidenceSearch(tenantAccess(ctx().db, { sub: 'nobody' }), embedder);
    assert.deepEqual(await none.search({ query: 'invoice', mode: 'hybrid' }), []);
    // Keyword search decides who sees what itself (security definer, to use its index):
    // the same answers as RLS gives, checked on their own.
    assert.deepEqual(await none.search({ query: 'invoice', mode: 'keyword' }), []);
    const byKeyword = await search(TENANT_B, { query: 'invoice', mode: 'keyword', limit: 50 });
    assert.ok(byKeyword.length > 0 && byKeyword.every((h) => h.tenant_id === TENANT_B));
  });

  it('the service role sees every tenant, and narrows to one with tenant_id', async () => {
    const all = await asService().search({ query: 'overdue invoice', mode: 'keyword', limit: 10, source_types: ['note'] });
    assert.deepEqual(keys(all).sort(), ['A-invoice', 'B-invoice']);
    const b = await asService().search({ query: 'client settled the late bill', mode: 'semantic', limit: 3, tenant_id: TENANT_B });
    assert.ok(b.every((h) => h.tenant_id === TENANT_B));
    assert.equal(keys(b)[0], 'B-invoice');
  });

  it('semantic search compares only rows of the active model', async () => {
    const hits = await search(TENANT_A, { query: 'client settled the late bill', mode: 'semantic', limit: 50 });
    assert.equal(hits.length, CORPUS.filter((c) => c.tenant === TENANT_A).length);
    assert.ok(keys(hits).every((k) => !k.startsWith('other:')));
    // Keyword search is model-free: it finds the other model's copies too.
    const words = await search(TENANT_A, { query: '"other model" pricing', mode: 'keyword' });
    assert.equal(words.length, 1);
  });

  it('filters by source type, time and metadata, in every mode', async () => {
    for (const mode of ['semantic', 'keyword', 'hybrid'] as const) {
      const query = mode === 'keyword' ? 'emails' : 'emails about money';
      const outputs = await search(TENANT_A, { query, mode, limit: 50, source_types: ['tool_output'] });
      assert.ok(outputs.length > 0 && outputs.every((h) => h.source_type === 'tool_output'), mode);
      const recent = await search(TENANT_A, { query, mode, limit: 50, created_after: new Date(NOW.getTime() - 16 * DAY), created_before: NOW });
      assert.ok(recent.length > 0 && recent.every((h) => h.created_at.getTime() >= NOW.getTime() - 16 * DAY && h.created_at < NOW), mode);
      const billing = await search(TENANT_A, { query, mode, limit: 50, metadata: { topic: 'billing' } });
      assert.ok(billing.length > 0 && billing.every((h) => h.metadata.topic === 'billing'), mode);
    }
  });

  it('refuses bad input at the boundary, naming the field', async () => {
    await assert.rejects(search(TENANT_A, { query: ' ', mode: 'keyword' }), { code: 'invalid_input', field: 'query' });
    await assert.rejects(search(TENANT_A, { query: 'x', mode: 'semantic', limit: 1001 }), { code: 'invalid_input', field: 'limit' });
    await assert.rejects(search(TENANT_A, { query: 'x', source_types: ['email' as never] }), { code: 'invalid_input', field: 'source_types.0' });
  });
});
