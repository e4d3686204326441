import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { TenantClaims } from '../../src/db/tenant-context.ts';
import { forEachEngine } from '../support/engines.ts';
import { refusedWith } from './rls-outcome.ts';

// The two scope gates of 004_rls:
//   * evidence_embeddings inserts by a tenant need every scope in the tenant's
//     guardrails.evidence_insert_scopes (restrictive policy evidence_insert_requires_scopes);
//     an empty list means tenants cannot insert evidence at all;
//   * guardrails updates by a tenant need scope guardrails:write (restrictive policy
//     guardrails_update_requires_scope); without it the row is filtered out: 0 rows change.

const T = {
  A: 'aaaaaaaa-0000-4000-8000-000000000001', // evidence_insert_scopes {finance:write}
  B: 'bbbbbbbb-0000-4000-8000-000000000002', // evidence_insert_scopes {finance:write}
  C: 'cccccccc-0000-4000-8000-000000000003', // evidence_insert_scopes {} (the default)
  D: 'dddddddd-0000-4000-8000-000000000004', // evidence_insert_scopes {finance:write, evidence:write}
  E: 'eeeeeeee-0000-4000-8000-000000000005', // {} at first; its own token changes it
} as const;
type Tenant = keyof typeof T;

const EVIDENCE_POLICY = 'evidence_insert_requires_scopes';

forEachEngine('scope gates', (ctx) => {
  before(async () => {
    await ctx().owner.transaction(async (tx) => {
      for (const [name, id] of Object.entries(T)) {
        await tx.query(`insert into public.tenants (id, name) values ($1, $2)`, [id, `Tenant ${name}`]);
      }
      const scopes: Record<Tenant, string[]> = { A: ['finance:write'], B: ['finance:write'], C: [], D: ['finance:write', 'evidence:write'], E: [] };
      for (const [name, list] of Object.entries(scopes)) {
        await tx.query(
          `insert into public.guardrails (tenant_id, trust_threshold, evidence_insert_scopes) values ($1, 0.8, $2)`,
          [T[name as Tenant], list],
        );
      }
    });
  });

  const token = (tenant: Tenant, extra: Omit<TenantClaims, 'tenant_id'> = {}): TenantClaims => ({ tenant_id: T[tenant], ...extra });

  // No RETURNING in the writes below: it would apply the SELECT policies to the new
  // row too, and could hide a broken WITH CHECK. The owner's view tells what was written.

  /** Inserts one evidence row for `tenant` with `claims`; returns the rows inserted. */
  const insertEvidence = (claims: TenantClaims, tenant: Tenant, content: string) =>
    ctx().db.asTenant(claims, async (tx) => {
      const res = await tx.query(
        `insert into public.evidence_embeddings (tenant_id, source_type, content) values ($1, 'note', $2)`,
        [T[tenant], content],
      );
      return res.rowCount;
    });

  /** The owner's view: evidence contents per tenant, sorted. */
  const evidenceOf = async (tenant: Tenant): Promise<string[]> => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ content: string }>('select content from public.evidence_embeddings where tenant_id = $1 order by content', [T[tenant]]),
    );
    return res.rows.map((r) => r.content);
  };

  const guardrailsOf = async (tenant: Tenant) => {
    const res = await ctx().owner.transaction((tx) =>
      tx.query<{ trust_threshold: number; evidence_insert_scopes: string[]; require_evidence: boolean }>(
        'select trust_threshold, evidence_insert_scopes, require_evidence from public.guardrails where tenant_id = $1',
        [T[tenant]],
      ),
    );
    assert.equal(res.rows.length, 1);
    return res.rows[0];
  };

  describe('evidence inserts', () => {
    it('a token with the configured scope inserts evidence for its own tenant', async () => {
      assert.equal(await insertEvidence(token('A', { scopes: ['finance:write'] }), 'A', 'a1 via scopes array'), 1);
      assert.deepEqual(await evidenceOf('A'), ['a1 via scopes array']);
    });

    it('the scope may come as an OAuth scope string, in any case', async () => {
      assert.equal(await insertEvidence(token('A', { scope: 'openid FINANCE:Write' }), 'A', 'a2 via scope string'), 1);
      assert.equal(await insertEvidence(token('A', { scopes: [' Finance:WRITE '] }), 'A', 'a3 mixed case'), 1);
      assert.deepEqual(await evidenceOf('A'), ['a1 via scopes array', 'a2 via scope string', 'a3 mixed case']);
    });

    it('a token without the scope is refused by the policy and nothing is written', async () => {
      const before = await evidenceOf('A');
      await refusedWith(insertEvidence(token('A'), 'A', 'no scopes'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      await refusedWith(insertEvidence(token('A', { scopes: [] }), 'A', 'empty scopes'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      await refusedWith(insertEvidence(token('A', { scopes: ['finance:read', 'guardrails:write'] }), 'A', 'other scopes'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      await refusedWith(insertEvidence(token('A', { scope: 'finance:writer finance' }), 'A', 'near misses'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      assert.deepEqual(await evidenceOf('A'), before);
    });

    it('a tenant with empty evidence_insert_scopes cannot insert at all', async () => {
      for (const claims of [token('C'), token('C', { scopes: ['finance:write'] }), token('C', { scopes: ['finance:write', 'guardrails:write', 'evidence:write'] })]) {
        await refusedWith(insertEvidence(claims, 'C', 'c'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      }
      assert.deepEqual(await evidenceOf('C'), []);
    });

    it('every configured scope is required', async () => {
      await refusedWith(insertEvidence(token('D', { scopes: ['finance:write'] }), 'D', 'd1'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      await refusedWith(insertEvidence(token('D', { scopes: ['evidence:write'] }), 'D', 'd2'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      assert.deepEqual(await evidenceOf('D'), []);
      assert.equal(await insertEvidence(token('D', { scopes: ['evidence:write', 'finance:write'] }), 'D', 'd3'), 1);
      assert.deepEqual(await evidenceOf('D'), ['d3']);
    });

    it('no token inserts for another tenant, even one carrying that tenant\'s scope', async () => {
      const a = await evidenceOf('A');
      const b = await evidenceOf('B');
      // Tenant isolation refuses first (the permissive policy; its message names no policy).
      const cross = await refusedWith(insertEvidence(token('B', { scopes: ['finance:write'] }), 'A', 'b→a'), 'evidence_embeddings', 'rls_violation');
      assert.equal(cross.policy, undefined, cross.message);
      await refusedWith(insertEvidence(token('A', { scopes: ['finance:write'] }), 'B', 'a→b'), 'evidence_embeddings', 'rls_violation');
      await refusedWith(insertEvidence(token('D', { scopes: ['finance:write', 'evidence:write'] }), 'A', 'd→a'), 'evidence_embeddings', 'rls_violation');
      await refusedWith(insertEvidence({ scopes: ['finance:write'] }, 'A', 'nobody→a'), 'evidence_embeddings', 'rls_violation');
      await refusedWith(insertEvidence({ tenant_id: 'not-a-uuid', scopes: ['finance:write'] }, 'A', 'bad→a'), 'evidence_embeddings', 'rls_violation');
      await refusedWith(insertEvidence({ role: 'anon', tenant_id: T.A, scopes: ['finance:write'] }, 'A', 'anon→a'), 'evidence_embeddings', 'denied');
      assert.deepEqual(await evidenceOf('A'), a);
      assert.deepEqual(await evidenceOf('B'), b);
    });

    it('the scope allows inserts only: evidence is never updated or deleted by a tenant', async () => {
      const claims = token('A', { scopes: ['finance:write'] });
      const before = await evidenceOf('A');
      await refusedWith(ctx().db.asTenant(claims, (tx) => tx.query(`update public.evidence_embeddings set content = 'x'`)), 'evidence_embeddings', 'denied');
      await refusedWith(ctx().db.asTenant(claims, (tx) => tx.query('delete from public.evidence_embeddings')), 'evidence_embeddings', 'denied');
      assert.deepEqual(await evidenceOf('A'), before);
    });

    it('the service role inserts for any tenant, whatever its scopes', async () => {
      const res = await ctx().db.asService((tx) =>
        tx.query<{ tenant: string }>(
          `insert into public.evidence_embeddings (tenant_id, source_type, content) values ($1, 'note', 'by service') returning tenant_id::text as tenant`,
          [T.C],
        ),
      );
      assert.deepEqual(res.rows, [{ tenant: T.C }]);
      assert.deepEqual(await evidenceOf('C'), ['by service']);
    });
  });

  describe('guardrails updates', () => {
    /** Runs one write with `claims`; returns the rows it changed. */
    const update = (claims: TenantClaims, sql: string, params: unknown[] = []) =>
      ctx().db.asTenant(claims, async (tx) => (await tx.query(sql, params)).rowCount);

    it('without guardrails:write a tenant token changes no row (filtered out, no error)', async () => {
      for (const claims of [token('A'), token('A', { scopes: ['finance:write'] }), token('A', { scope: 'guardrails:read' })]) {
        assert.equal(await update(claims, 'update public.guardrails set trust_threshold = 0.1 where tenant_id = $1', [T.A]), 0);
        assert.equal(await update(claims, 'update public.guardrails set require_evidence = false'), 0);
      }
      assert.deepEqual(await guardrailsOf('A'), { trust_threshold: 0.8, evidence_insert_scopes: ['finance:write'], require_evidence: true });
    });

    it('with guardrails:write a tenant changes its own row', async () => {
      assert.equal(await update(token('A', { scopes: ['guardrails:write'] }), 'update public.guardrails set trust_threshold = 0.6 where tenant_id = $1', [T.A]), 1);
      assert.equal((await guardrailsOf('A'))?.trust_threshold, 0.6);
      assert.equal(await update(token('A', { scope: 'openid Guardrails:Write' }), 'update public.guardrails set trust_threshold = 0.7'), 1);
      assert.equal((await guardrailsOf('A'))?.trust_threshold, 0.7);
    });

    it("with guardrails:write a tenant still never changes another tenant's row", async () => {
      const b = await guardrailsOf('B');
      assert.equal(await update(token('A', { scopes: ['guardrails:write'] }), 'update public.guardrails set trust_threshold = 0.1 where tenant_id = $1', [T.B]), 0);
      assert.equal(await update(token('A', { scopes: ['guardrails:write'] }), 'update public.guardrails set require_evidence = false'), 1);
      assert.equal(await update({ scopes: ['guardrails:write'] }, 'update public.guardrails set trust_threshold = 0.1'), 0);
      assert.deepEqual(await guardrailsOf('B'), b);
      assert.equal((await guardrailsOf('A'))?.require_evidence, false, 'the unfiltered update reached A only');
    });

    it('with guardrails:write a tenant can neither move its row, nor insert or delete guardrails', async () => {
      const claims = token('A', { scopes: ['guardrails:write'] });
      await refusedWith(update(claims, 'update public.guardrails set tenant_id = $1', [T.B]), 'guardrails', 'denied');
      await refusedWith(update(claims, 'update public.guardrails set created_at = now()'), 'guardrails', 'denied');
      await refusedWith(update(claims, `insert into public.guardrails (tenant_id) values ($1)`, [T.A]), 'guardrails', 'denied');
      await refusedWith(update(claims, 'delete from public.guardrails'), 'guardrails', 'denied');
      const rows = await ctx().owner.transaction((tx) => tx.query<{ n: number }>('select count(*)::int as n from public.guardrails where tenant_id = $1', [T.A]));
      assert.equal(rows.rows[0]?.n, 1);
    });

    it('guardrails:write includes the evidence gate: the tenant may name its own evidence scopes', async () => {
      await refusedWith(insertEvidence(token('E', { scopes: ['notes:write'] }), 'E', 'e1'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
      assert.deepEqual(
        await update(token('E', { scopes: ['guardrails:write'] }), `update public.guardrails set evidence_insert_scopes = '{notes:write}'`),
        1,
      );
      assert.deepEqual((await guardrailsOf('E'))?.evidence_insert_scopes, ['notes:write']);
      assert.equal(await insertEvidence(token('E', { scopes: ['notes:write'] }), 'E', 'e2'), 1);
      assert.deepEqual(await evidenceOf('E'), ['e2']);
      // ...and that does nothing for anybody else.
      await refusedWith(insertEvidence(token('E', { scopes: ['notes:write'] }), 'C', 'e→c'), 'evidence_embeddings', 'rls_violation');
      await refusedWith(insertEvidence(token('C', { scopes: ['notes:write'] }), 'C', 'c'), 'evidence_embeddings', 'rls_violation', EVIDENCE_POLICY);
    });
  });
});
