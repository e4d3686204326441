import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Completion } from '../../src/domain/envelope-outcome.ts';
import { CompletionBatcher } from '../../src/worker/completion-batcher.ts';
import type { CompletionApplied } from '../../src/worker/outbox-queries.ts';

const completion = (id: string): Completion => ({ id, to: 'success', transition: 'succeed', attempted: true });

/** An apply that records each batch and answers after `gate` resolves. */
function recordingApply(answer: (c: Completion) => CompletionApplied | undefined = (c) => ({ id: c.id, applied: true, status: c.to })) {
  const batches: string[][] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    batches,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    apply: async (cs: Completion[]) => {
      batches.push(cs.map((c) => c.id));
      await gate;
      return cs.flatMap((c) => answer(c) ?? []);
    },
  };
}

test('completions added in the same turn share one write, and each caller gets its own row', async () => {
  const r = recordingApply();
  const batcher = new CompletionBatcher(r.apply);
  const results = await Promise.all(['a', 'b', 'c'].map((id) => batcher.add(completion(id))));
  assert.deepEqual(r.batches, [['a', 'b', 'c']]);
  assert.deepEqual(results.map((a) => a?.id), ['a', 'b', 'c']);
});

test('completions arriving during a write go together in the next one', async () => {
  const r = recordingApply();
  const batcher = new CompletionBatcher(r.apply);
  r.hold();
  const first = batcher.add(completion('a'));
  await new Promise((resolve) => setImmediate(resolve)); // the first write is now in flight
  const later = [batcher.add(completion('b')), batcher.add(completion('c'))];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(r.batches, [['a']]);
  r.release();
  await Promise.all([first, ...later]);
  assert.deepEqual(r.batches, [['a'], ['b', 'c']]);
});

test('a batch never exceeds maxBatch', async () => {
  const r = recordingApply();
  const batcher = new CompletionBatcher(r.apply, 2);
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => batcher.add(completion(id))));
  assert.deepEqual(r.batches, [['a', 'b'], ['c', 'd'], ['e']]);
});

test('a row the write did not return resolves undefined', async () => {
  const r = recordingApply((c) => (c.id === 'gone' ? undefined : { id: c.id, applied: true, status: c.to }));
  const batcher = new CompletionBatcher(r.apply);
  const [kept, gone] = await Promise.all([batcher.add(completion('kept')), batcher.add(completion('gone'))]);
  assert.equal(kept?.id, 'kept');
  assert.equal(gone, undefined);
});

test('a failed write fails every caller of its batch, and the next batch is written', async () => {
  let calls = 0;
  const batcher = new CompletionBatcher((cs) => {
    calls += 1;
    if (calls === 1) return Promise.reject(new Error('connection lost'));
    return Promise.resolve(cs.map((c) => ({ id: c.id, applied: true, status: c.to })));
  });
  const failed = await Promise.allSettled([batcher.add(completion('a')), batcher.add(completion('b'))]);
  assert.deepEqual(failed.map((f) => f.status), ['rejected', 'rejected']);
  assert.match(String((failed[0] as PromiseRejectedResult).reason), /connection lost/);
  assert.equal((await batcher.add(completion('c')))?.id, 'c');
  assert.equal(calls, 2);
});
