import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ENVELOPE_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  canTransition,
  isEnvelopeStatus,
  isTerminal,
  transitionNamed,
  transitionsFrom,
  type EnvelopeStatus,
  type TransitionName,
} from '../../src/domain/envelope-status.ts';
import { OUTBOX_STATUSES } from '../../src/services/outbox-service.ts';

// DESIGN.md §5, written out independently of the module's table.
const EXPECTED: ReadonlyArray<[TransitionName, EnvelopeStatus, EnvelopeStatus]> = [
  ['claim', 'pending', 'in_progress'],
  ['defer', 'in_progress', 'pending'],
  ['reject', 'in_progress', 'rejected'],
  ['await_approval', 'in_progress', 'awaiting_approval'],
  ['approve', 'awaiting_approval', 'pending'],
  ['deny', 'awaiting_approval', 'rejected'],
  ['succeed', 'in_progress', 'success'],
  ['conflict', 'in_progress', 'conflict'],
  ['retry', 'in_progress', 'pending'],
  ['dead_letter', 'in_progress', 'dlq'],
  ['abandon', 'in_progress', 'pending'],
  ['release', 'in_progress', 'pending'],
  ['requeue', 'dlq', 'pending'],
  ['flag_for_approval', 'pending', 'awaiting_approval'],
];
const allowedPairs = new Set(EXPECTED.map(([, from, to]) => `${from}->${to}`));

describe('envelope statuses', () => {
  it('are the outbox statuses of the schema plus dlq', () => {
    assert.deepEqual([...ENVELOPE_STATUSES].sort(), [...OUTBOX_STATUSES, 'dlq'].sort());
  });

  it('terminal: success, conflict, rejected and dlq; the rest are not', () => {
    assert.deepEqual([...TERMINAL_STATUSES].sort(), ['conflict', 'dlq', 'rejected', 'success']);
    for (const s of ENVELOPE_STATUSES) assert.equal(isTerminal(s), ['success', 'conflict', 'rejected', 'dlq'].includes(s), s);
  });

  it('isEnvelopeStatus accepts the statuses only', () => {
    for (const s of ENVELOPE_STATUSES) assert.equal(isEnvelopeStatus(s), true, s);
    for (const v of ['failed', 'PENDING', '', ' pending', null, undefined, 1, {}]) assert.equal(isEnvelopeStatus(v), false, JSON.stringify(v) ?? 'undefined');
  });
});

describe('transitions', () => {
  it('are exactly the design, with one entry per name', () => {
    assert.deepEqual(
      TRANSITIONS.map((t) => [t.name, t.from, t.to]),
      EXPECTED,
    );
    assert.equal(new Set(TRANSITIONS.map((t) => t.name)).size, TRANSITIONS.length);
    for (const t of TRANSITIONS) assert.ok(t.description.length > 0, t.name);
  });

  it('the table cannot be changed at run time', () => {
    assert.ok(Object.isFrozen(TRANSITIONS));
    assert.throws(() => (TRANSITIONS as Array<unknown>).push({}), TypeError);
  });

  for (const [name, from, to] of EXPECTED) {
    it(`allows ${name}: ${from} → ${to}`, () => {
      assert.equal(canTransition(from, to), true);
      assert.deepEqual(transitionNamed(name), { name, from, to, description: transitionNamed(name).description });
    });
  }

  it(`refuses every other pair (${ENVELOPE_STATUSES.length ** 2 - allowedPairs.size} of them), self-transitions included`, () => {
    let refused = 0;
    for (const from of ENVELOPE_STATUSES) {
      for (const to of ENVELOPE_STATUSES) {
        if (allowedPairs.has(`${from}->${to}`)) continue;
        assert.equal(canTransition(from, to), false, `${from} → ${to}`);
        refused++;
      }
    }
    assert.equal(refused, 49 - 11); // 14 transitions over 11 distinct pairs
  });

  it('nothing leaves a terminal status except an operator requeue out of the DLQ', () => {
    for (const s of TERMINAL_STATUSES) {
      assert.deepEqual(transitionsFrom(s).map((t) => t.name), s === 'dlq' ? ['requeue'] : [], s);
    }
  });

  it('every status is reachable from pending, and every non-terminal one can reach a terminal one', () => {
    const reach = (start: EnvelopeStatus) => {
      const seen = new Set<EnvelopeStatus>([start]);
      for (const s of seen) for (const t of transitionsFrom(s)) seen.add(t.to);
      return seen;
    };
    assert.deepEqual([...reach('pending')].sort(), [...ENVELOPE_STATUSES].sort());
    for (const s of ENVELOPE_STATUSES) {
      if (!isTerminal(s)) assert.ok([...reach(s)].some(isTerminal), s);
    }
  });

  it('transitionsFrom lists the edges out of a status in table order', () => {
    assert.deepEqual(transitionsFrom('pending').map((t) => t.name), ['claim', 'flag_for_approval']);
    assert.deepEqual(transitionsFrom('awaiting_approval').map((t) => t.name), ['approve', 'deny']);
    assert.deepEqual(
      transitionsFrom('in_progress').map((t) => t.name),
      ['defer', 'reject', 'await_approval', 'succeed', 'conflict', 'retry', 'dead_letter', 'abandon', 'release'],
    );
  });

  it('transitionNamed fails loudly on a name outside the table', () => {
    assert.throws(() => transitionNamed('explode' as TransitionName), /no transition named explode/);
  });
});
