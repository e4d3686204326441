import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, it } from 'node:test';
import type { Transaction } from '../../src/db/types.ts';
import { forEachBackend } from '../support/backends.ts';
import { rejectsWith } from '../support/assert-error.ts';

// audit_log at the SQL level (003_audit): append-only for every role, one hash chain per
// tenant linked by the insert trigger, and steward.audit_verify finding tampering done
// by a superuser who bypasses the triggers. Each test that tampers has a tenant (hence
// a chain) of its own, so one test's damage never shows up in another's verdict.

const tenant = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const T = {
  appendOnly: tenant(1), linkX: tenant(2), linkY: tenant(3), multiRow: tenant(4), concurrent: tenant(5),
  payload: tenant(6), deleted: tenant(7), deletedFirst: tenant(8), hash: tenant(9), prevHash: tenant(10), relinked: tenant(11),
};
const GENESIS = '0'.repeat(64);

interface ChainRow {
  id: number;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string;
  category: string;
  chain_seq: number;
  prev_hash: string;
  hash: string;
  payload_text: string;
  created_micros: number;
}

forEachBackend('audit_log', (ctx) => {
  const owner = <R>(fn: (tx: Transaction) => Promise<R>) => ctx().test.owner.transaction(fn);
  const asService = <R>(fn: (tx: Transaction) => Promise<R>) => ctx().db.asService(fn);

  const append = (tenantId: string, payload: Record<string, unknown> = {}) =>
    asService(async (tx) => (await tx.query<{ id: number }>(
      `insert into audit_log (tenant_id, actor_type, actor_id, category, payload)
       values ($1, 'agent', 'control-plane', 'test', $2::jsonb) returning id`,
      [tenantId, JSON.stringify(payload)])).rows[0]!.id);
  const appendMany = async (tenantId: string, n: number) => {
    const ids: number[] = [];
    for (let i = 1; i <= n; i++) ids.push(await append(tenantId, { n: i }));
    return ids;
  };
  const chainOf = (tenantId: string) =>
    owner(async (tx) => (await tx.query<ChainRow>(
      `select id, tenant_id, actor_type, actor_id, category, chain_seq, prev_hash, hash, payload::text as payload_text,
              (extract(epoch from created_at) * 1000000)::bigint as created_micros
         from audit_log where tenant_id = $1 order by chain_seq`, [tenantId])).rows);
  const verify = (tenantId?: string) =>
    asService(async (tx) => (await tx.query(
      'select tenant_id, id, chain_seq, reason from steward.audit_verify($1::uuid)', [tenantId ?? null])).rows);
  /** Runs `sql` as the superuser with triggers off: how an attacker with the keys would edit history. */
  const tamper = (sql: string, params: unknown[]) =>
    owner(async (tx) => {
      await tx.query('set local session_replication_role = replica');
      const res = await tx.query(sql, params);
      assert.equal(res.rowCount, 1, 'the tampering statement must hit exactly one row');
    });
  const refusedByTrigger = (op: 'UPDATE' | 'DELETE' | 'TRUNCATE', sql: string) =>
    assert.rejects(owner((tx) => tx.query(sql)), (error: Error & { code?: string }) => {
      assert.equal(error.code, '42501');
      assert.equal(error.message, `audit_log is append-only: ${op} is not allowed`);
      return true;
    });

  before(async () => {
    await owner((tx) => tx.query(
      `insert into tenants (id, name) select t, 'audit test ' || t from unnest($1::uuid[]) as t`, [Object.values(T)]));
  });

  it('the service role and tenants cannot UPDATE, DELETE or TRUNCATE', async () => {
    const [id] = await appendMany(T.appendOnly, 2);
    const before = await chainOf(T.appendOnly);
    for (const sql of ['update audit_log set category = \'x\'', 'delete from audit_log', 'truncate audit_log']) {
      await rejectsWith(asService((tx) => tx.query(sql)), 'forbidden');
      await rejectsWith(ctx().db.asTenant({ tenant_id: T.appendOnly }, (tx) => tx.query(sql)), 'forbidden');
    }
    await rejectsWith(asService((tx) => tx.query('delete from audit_log where id = $1', [id])), 'forbidden');
    assert.deepEqual(await chainOf(T.appendOnly), before);
  });

  it('the owner, a superuser, is refused by the trigger', async () => {
    const su = await owner((tx) => tx.query<{ su: boolean }>('select rolsuper as su from pg_roles where rolname = current_user'));
    assert.equal(su.rows[0]?.su, true, 'the test owner must be a superuser for this test to mean anything');
    const before = await chainOf(T.appendOnly);
    assert.ok(before.length > 0);
    await refusedByTrigger('UPDATE', `update audit_log set payload = '{}' where tenant_id = '${T.appendOnly}'`);
    await refusedByTrigger('DELETE', `delete from audit_log where tenant_id = '${T.appendOnly}'`);
    await refusedByTrigger('TRUNCATE', 'truncate audit_log');
    await refusedByTrigger('TRUNCATE', 'truncate tenants cascade');
    assert.deepEqual(await chainOf(T.appendOnly), before);
  });

  it('links rows per tenant: chain_seq 1..n, prev_hash = the previous hash, hash over the row', async () => {
    for (const t of [T.linkX, T.linkY, T.linkX, T.linkX, T.linkY]) await append(t, { note: 'interleaved', t });
    // Values given for the chain columns are overwritten by the trigger.
    await asService((tx) => tx.query(
      `insert into audit_log (tenant_id, category, payload, chain_seq, prev_hash, hash)
       values ($1, 'test', '{"forged": true}', 99, 'forged', 'forged')`, [T.linkX]));
    const x = await chainOf(T.linkX);
    const y = await chainOf(T.linkY);
    assert.deepEqual(x.map((r) => r.chain_seq), [1, 2, 3, 4]);
    assert.deepEqual(y.map((r) => r.chain_seq), [1, 2]);
    for (const chain of [x, y]) {
      chain.forEach((row, i) => {
        assert.equal(row.prev_hash, i === 0 ? GENESIS : chain[i - 1]!.hash);
        // The documented formula, recomputed outside the database: sha256 of
        // prev_hash | jsonb array of the row's fields, created_at as epoch microseconds.
        const fields = [row.id, JSON.stringify(row.tenant_id), row.chain_seq, JSON.stringify(row.actor_type),
          JSON.stringify(row.actor_id), JSON.stringify(row.category), row.payload_text, row.created_micros];
        const expected = createHash('sha256').update(`${row.prev_hash}|[${fields.join(', ')}]`, 'utf8').digest('hex');
        assert.equal(row.hash, expected, `hash of chain_seq ${row.chain_seq}`);
      });
    }
    assert.deepEqual(await verify(T.linkX), []);
    assert.deepEqual(await verify(T.linkY), []);
  });

  it('one multi-row INSERT links its rows in order', async () => {
    await asService((tx) => tx.query(
      `insert into audit_log (tenant_id, category, payload)
       select $1, 'test', jsonb_build_object('n', n) from generate_series(1, 4) as n`, [T.multiRow]));
    const chain = await chainOf(T.multiRow);
    assert.deepEqual(chain.map((r) => r.chain_seq), [1, 2, 3, 4]);
    chain.forEach((row, i) => assert.equal(row.prev_hash, i === 0 ? GENESIS : chain[i - 1]!.hash));
    assert.deepEqual(await verify(T.multiRow), []);
  });

  it('concurrent appends for one tenant never fork the chain', async () => {
    // Each transaction holds its new row a moment before committing, so on PostgreSQL
    // the appends overlap and must queue on the chain lock (PGlite runs them in turn).
    await Promise.all(Array.from({ length: 20 }, (_, i) => asService(async (tx) => {
      await tx.query(`insert into audit_log (tenant_id, category, payload) values ($1, 'test', $2::jsonb)`,
        [T.concurrent, JSON.stringify({ i })]);
      await tx.query('select pg_sleep(0.005)');
    })));
    const chain = await chainOf(T.concurrent);
    assert.deepEqual(chain.map((r) => r.chain_seq), Array.from({ length: 20 }, (_, i) => i + 1));
    chain.forEach((row, i) => assert.equal(row.prev_hash, i === 0 ? GENESIS : chain[i - 1]!.hash));
    assert.equal(new Set(chain.map((r) => r.prev_hash)).size, 20);
    assert.deepEqual(await verify(T.concurrent), []);
  });

  it('a changed payload is a hash_mismatch at that row', async () => {
    const ids = await appendMany(T.payload, 4);
    await tamper(`update audit_log set payload = '{"n": 200}' where id = $1`, [ids[1]]);
    assert.deepEqual(await verify(T.payload), [{ tenant_id: T.payload, id: ids[1], chain_seq: 2, reason: 'hash_mismatch' }]);
  });

  it('a removed middle row is a sequence_gap at its successor', async () => {
    const ids = await appendMany(T.deleted, 4);
    await tamper('delete from audit_log where id = $1', [ids[1]]);
    assert.deepEqual(await verify(T.deleted), [{ tenant_id: T.deleted, id: ids[2], chain_seq: 3, reason: 'sequence_gap' }]);
  });

  it('a removed first row is a sequence_gap at the new first row', async () => {
    const ids = await appendMany(T.deletedFirst, 3);
    await tamper('delete from audit_log where id = $1', [ids[0]]);
    assert.deepEqual(await verify(T.deletedFirst), [{ tenant_id: T.deletedFirst, id: ids[1], chain_seq: 2, reason: 'sequence_gap' }]);
  });

  it('a changed hash is a hash_mismatch at that row', async () => {
    const ids = await appendMany(T.hash, 3);
    await tamper(`update audit_log set hash = repeat('f', 64) where id = $1`, [ids[2]]);
    assert.deepEqual(await verify(T.hash), [{ tenant_id: T.hash, id: ids[2], chain_seq: 3, reason: 'hash_mismatch' }]);
  });

  it('a changed prev_hash is a prev_hash_mismatch at that row', async () => {
    const ids = await appendMany(T.prevHash, 3);
    await tamper(`update audit_log set prev_hash = repeat('e', 64) where id = $1`, [ids[1]]);
    assert.deepEqual(await verify(T.prevHash), [{ tenant_id: T.prevHash, id: ids[1], chain_seq: 2, reason: 'prev_hash_mismatch' }]);
  });

  it('a rewritten row with a recomputed hash is a prev_hash_mismatch at its successor', async () => {
    const ids = await appendMany(T.relinked, 4);
    await tamper(
      `update audit_log set payload = '{"n": 2, "rewritten": true}',
              hash = steward.audit_row_hash(prev_hash, id, tenant_id, chain_seq, actor_type, actor_id, category,
                                            '{"n": 2, "rewritten": true}', created_at)
        where id = $1`, [ids[1]]);
    assert.deepEqual(await verify(T.relinked), [{ tenant_id: T.relinked, id: ids[2], chain_seq: 3, reason: 'prev_hash_mismatch' }]);
  });

  it('verify of every chain reports exactly the first break of each tampered chain', async () => {
    const broken = await verify();
    const tampered = [T.payload, T.deleted, T.deletedFirst, T.hash, T.prevHash, T.relinked];
    assert.deepEqual(broken.map((b) => b.tenant_id).sort(), [...tampered].sort());
    for (const t of tampered) assert.deepEqual(broken.filter((b) => b.tenant_id === t), await verify(t));
  });
});
