// Measurement child for an embedder's throughput: the first call (one text) loads the
// model and is timed apart; then `sentences` real sentences (README.md and docs/, see
// sentences.ts) are embedded in calls of `batch` texts, as the re-indexer does
// (reindexEvidence's default batchSize is 32). Also records the vectors' structure, which
// the synthetic corpus of search.ts is calibrated on.
// Usage: node bench/search/embed.ts '<EmbedRequest JSON>' (the runner does this).
import { DefaultEmbedder } from '../../src/evidence/embedders/default-embedder.ts';
import type { Embedder } from '../../src/evidence/embedders/embedder.ts';
import { HashingEmbedder } from '../../src/evidence/embedders/hashing-embedder.ts';
import { busyBetween, machineTicks } from '../outbox/machine.ts';
import { runChild } from './child.ts';
import { structureOf } from './dataset.ts';
import type { EmbedRequest, EmbedResult } from './protocol.ts';
import { realSentences } from './sentences.ts';

runChild(async (req: EmbedRequest): Promise<EmbedResult> => {
  const embedder: Embedder = req.embedder === 'default' ? new DefaultEmbedder() : new HashingEmbedder();
  const texts = realSentences(req.sentences);
  if (texts.length < req.sentences) process.stderr.write(`only ${texts.length} sentences available (asked for ${req.sentences})\n`);
  try {
    const l0 = performance.now();
    await embedder.embed(['Warm-up: the first call loads the model.']);
    const loadMs = performance.now() - l0;

    const vectors: Float32Array[] = [];
    const ticks0 = machineTicks();
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i += req.batch) vectors.push(...await embedder.embed(texts.slice(i, i + req.batch)));
    const seconds = (performance.now() - t0) / 1000;
    const machineBusy = busyBetween(ticks0, machineTicks());
    return {
      kind: 'embed', config: req.config, embedder: req.embedder, modelId: embedder.modelId, texts: texts.length,
      meanChars: texts.reduce((a, t) => a + t.length, 0) / texts.length, batch: req.batch, loadMs, seconds,
      textsPerSecond: texts.length / seconds, structure: structureOf(vectors), machineBusy,
    };
  } finally {
    await embedder.close?.();
  }
});
