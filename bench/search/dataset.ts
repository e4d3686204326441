// The synthetic evidence corpus: deterministic (every row and query is a pure function of
// the seed and its index, so both engines load the same rows and ask the same queries)
// and shaped like real embeddings rather than i.i.d. noise, on which no HNSW index
// recalls well (../../../shared/reference/vector-and-embedded.md §1: 0.12 at ef 100).
//
// Vectors (384-d, unit length). Every row is
//   normalize(G·g + T·topic + S·subtopic + L·latent + N·noise)
// with g one direction all rows share (real sentence embeddings are anisotropic: the
// default embedder's vectors of Steward's docs have a mean of norm 0.68), 64 topics of 8
// subtopics each (random unit centres), `latent` a 48-d Gaussian with a power-law
// spectrum (σ_j ∝ j^-0.5) through a per-topic random basis (real embeddings have a low
// intrinsic dimension), and `noise` isotropic. The weights were chosen so that a 1,000-row
// sample has the default embedder's structure on 1,000 real sentences (mean pairwise
// cosine, mean cosine to the 1st and 10th neighbour): the run prints both.
//
// Tenants have skewed sizes (Zipf, s = 1: with 20 tenants the largest holds 28% of the
// rows, the smallest 1.4%) and topic preferences of their own (each tenant draws topics
// from a Zipf over its own permutation of them), so a tenant's rows cluster as a real
// tenant's do and tenants share topics.
//
// Text: a Steward-style header ("Tool output of GMAIL__messages.send (success)",
// "Proposal …", "Audit …", "Note by …") and 3–7 `key: phrase` lines whose words come
// 60% from the row's topic vocabulary (40 words, Zipf) and 40% from the general
// vocabulary (every word of 4+ letters in the default embedder's calibration corpus,
// Zipf), so keyword search finds matches and they correlate with the vectors' topics.
import { readFileSync } from 'node:fs';

export const DIMENSIONS = 384;
export const MODEL_ID = 'bench-synthetic-384-v1';

const TOPICS = 64;
const SUBTOPICS = 8;
const LATENT = 48;
const TOPIC_WORDS = 40;

/** Weights of the components (their squares add up to 1). */
export const WEIGHTS = { shared: Math.sqrt(0.45), topic: Math.sqrt(0.16), subtopic: Math.sqrt(0.1), latent: Math.sqrt(0.23), noise: Math.sqrt(0.06) };

const TOOLS = [
  'GMAIL__messages.send', 'GMAIL__drafts.create', 'GMAIL__labels.modify', 'SLACK__chat.postMessage', 'SLACK__conversations.invite',
  'HUBSPOT__deals.update', 'HUBSPOT__contacts.create', 'STRIPE__refunds.create', 'STRIPE__invoices.finalize', 'STRIPE__customers.update',
  'JIRA__issues.create', 'JIRA__issues.transition', 'GITHUB__issues.comment', 'GITHUB__pulls.merge', 'NOTION__pages.update',
  'GCAL__events.insert', 'GCAL__events.move', 'ZENDESK__tickets.update', 'ZENDESK__tickets.reply', 'QUICKBOOKS__bills.pay',
  'SALESFORCE__opportunities.update', 'LINEAR__issues.update', 'ASANA__tasks.complete', 'DRIVE__files.share',
];
const KEYS = ['subject', 'summary', 'title', 'body', 'comment', 'reason', 'customer', 'note', 'description', 'result', 'message.subject', 'ticket.title', 'deal.stage', 'invoice.memo'];
const PEOPLE = ['ana', 'ben', 'chloe', 'dev', 'emma', 'farid', 'grace', 'hugo', 'ines', 'jon'];
const TRANSITIONS = ['succeed', 'fail', 'approve', 'reject', 'enqueue', 'dead_letter'];
const SOURCE_TYPES = [['tool_output', 0.4], ['proposal', 0.25], ['audit', 0.25], ['note', 0.1]] as const;

// --- seeded randomness -----------------------------------------------------------

/** A 32-bit hash of a few integers (seeding one generator per row / query / centre). */
function hash(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for synthetic data. */
export class Rng {
  #s: number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  static of(...parts: number[]): Rng {
    return new Rng(hash(...parts));
  }

  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  gauss(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.#spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

/** Sampling index i with probability ∝ 1 / (i + 1)^s. */
class Zipf {
  readonly #cdf: Float64Array;

  constructor(n: number, s: number) {
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.#cdf[i] = sum += 1 / (i + 1) ** s;
    for (let i = 0; i < n; i++) this.#cdf[i] = this.#cdf[i]! / sum;
  }

  probability(i: number): number {
    return this.#cdf[i]! - (i > 0 ? this.#cdf[i - 1]! : 0);
  }

  sample(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function randomUnit(rng: Rng, d = DIMENSIONS): Float32Array {
  const v = new Float32Array(d);
  for (let i = 0; i < d; i++) v[i] = rng.gauss();
  return normalized(v);
}

export function normalized(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

// --- the corpus --------------------------------------------------------------------

/** Words of 4+ letters of the default embedder's calibration corpus, in first-seen order. */
export function generalVocabulary(): string[] {
  const text = readFileSync(new URL('../../src/evidence/embedders/use-pca/calibration.txt', import.meta.url), 'utf8');
  return [...new Set(text.toLowerCase().match(/[a-z]{4,}/g) ?? [])];
}

export interface SyntheticRow {
  /** Index among the loaded rows (or among the queries' held-out rows). */
  index: number;
  tenant: number;
  topic: number;
  subtopic: number;
  sourceType: string;
  sourceId: string;
  content: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  vector: Float32Array;
  /** The words of the body (keyword queries are drawn from them). */
  bodyWords: string[];
}

export interface SyntheticQuery {
  index: number;
  tenant: number;
  /** `row`: a held-out row's own vector (a new document looking for similar ones); `centroid`: a subtopic's centre, perturbed (a short query about a topic). */
  kind: 'row' | 'centroid';
  topic: number;
  vector: Float32Array;
  /** Two words for keyword / hybrid search (websearch syntax: both required). */
  text: string;
}

const EPOCH = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

export class Dataset {
  readonly seed: number;
  readonly tenants: number;
  readonly #shared: Float32Array;
  readonly #topics: Float32Array[];
  readonly #subtopics: Float32Array[][];
  /** Per topic, LATENT basis vectors of DIMENSIONS, scaled by the spectrum. */
  readonly #bases: Float32Array[];
  readonly #vocabulary: string[];
  readonly #general: Zipf;
  readonly #topicWords: string[][];
  readonly #topicTools: string[][];
  readonly #wordZipf = new Zipf(TOPIC_WORDS, 1);
  readonly #tenantSize: Zipf;
  readonly #tenantTopics: number[][];
  readonly #topicZipf = new Zipf(TOPICS, 1.1);

  constructor(seed: number, tenants: number) {
    this.seed = seed;
    this.tenants = tenants;
    this.#shared = randomUnit(Rng.of(seed, 1));
    this.#topics = Array.from({ length: TOPICS }, (_, t) => randomUnit(Rng.of(seed, 2, t)));
    this.#subtopics = this.#topics.map((_, t) => Array.from({ length: SUBTOPICS }, (_, s) => randomUnit(Rng.of(seed, 3, t, s))));
    // σ_j ∝ j^-0.5, scaled so that E|latent|² = 1 (columns have E|b|² = 1).
    const sigma = Array.from({ length: LATENT }, (_, j) => (j + 1) ** -0.5);
    const norm = Math.sqrt(sigma.reduce((a, s) => a + s * s, 0));
    this.#bases = this.#topics.map((_, t) => {
      const rng = Rng.of(seed, 4, t);
      const b = new Float32Array(LATENT * DIMENSIONS);
      for (let j = 0; j < LATENT; j++) {
        for (let i = 0; i < DIMENSIONS; i++) b[j * DIMENSIONS + i] = (rng.gauss() / Math.sqrt(DIMENSIONS)) * (sigma[j]! / norm);
      }
      return b;
    });
    this.#vocabulary = shuffled(generalVocabulary(), Rng.of(seed, 5));
    this.#general = new Zipf(this.#vocabulary.length, 1.1);
    this.#topicWords = this.#topics.map((_, t) => {
      // Topic words from the vocabulary's less common part: they carry the topic.
      const rng = Rng.of(seed, 6, t);
      const words = new Set<string>();
      while (words.size < TOPIC_WORDS) words.add(this.#vocabulary[200 + rng.int(this.#vocabulary.length - 200)]!);
      return [...words];
    });
    this.#topicTools = this.#topics.map((_, t) => {
      const rng = Rng.of(seed, 7, t);
      return [TOOLS[rng.int(TOOLS.length)]!, TOOLS[rng.int(TOOLS.length)]!, TOOLS[rng.int(TOOLS.length)]!];
    });
    this.#tenantSize = new Zipf(tenants, 1);
    this.#tenantTopics = Array.from({ length: tenants }, (_, k) => shuffled(Array.from({ length: TOPICS }, (_, t) => t), Rng.of(seed, 8, k)));
  }

  /** The expected share of the rows tenant `k` holds. */
  tenantShare(k: number): number {
    return this.#tenantSize.probability(k);
  }

  /** Row `index` of the loaded corpus (`heldOut`: of the queries' rows, never loaded). */
  row(index: number, heldOut = false, tenant?: number): SyntheticRow {
    const rng = Rng.of(this.seed, heldOut ? 20 : 10, index);
    const k = tenant ?? this.#tenantSize.sample(rng);
    const topic = this.#tenantTopics[k]![this.#topicZipf.sample(rng)]!;
    const subtopic = rng.int(SUBTOPICS);
    const vector = this.#compose(topic, subtopic, rng, WEIGHTS.latent, WEIGHTS.noise);

    const typeRoll = rng.next();
    let acc = 0;
    let sourceType: string = SOURCE_TYPES[0][0];
    for (const [type, p] of SOURCE_TYPES) {
      acc += p;
      if (typeRoll < acc) {
        sourceType = type;
        break;
      }
    }
    const tool = this.#topicTools[topic]![rng.int(3)]!;
    const status = rng.next() < 0.9 ? 'success' : 'error';
    const header = sourceType === 'tool_output' ? `Tool output of ${tool} (${status})`
      : sourceType === 'proposal' ? `Proposal ${tool} (risk ${['low', 'medium', 'high'][rng.int(3)]!})`
        : sourceType === 'audit' ? `Audit outbox ${TRANSITIONS[rng.int(TRANSITIONS.length)]!} by worker w-${1 + rng.int(4)}`
          : `Note by ${PEOPLE[rng.int(PEOPLE.length)]!}`;
    const bodyWords: string[] = [];
    const lines = [header];
    const nLines = 3 + rng.int(5);
    for (let l = 0; l < nLines; l++) {
      const words: string[] = [];
      const nWords = 3 + rng.int(7);
      for (let w = 0; w < nWords; w++) {
        words.push(rng.next() < 0.6 ? this.#topicWords[topic]![this.#wordZipf.sample(rng)]! : this.#vocabulary[this.#general.sample(rng)]!);
      }
      if (rng.next() < 0.2) words.push(rng.next() < 0.5 ? `INV-${1000 + rng.int(9000)}` : (rng.int(100_000) / 100).toFixed(2));
      bodyWords.push(...words.filter((w) => /^[a-z]+$/.test(w)));
      lines.push(`${KEYS[rng.int(KEYS.length)]!}: ${words.join(' ')}`);
    }
    return {
      index, tenant: k, topic, subtopic, sourceType,
      sourceId: `${heldOut ? 'query' : 'bench'}-${index}`,
      content: lines.join('\n'),
      metadata: { tool_slug: tool, status, topic },
      createdAt: new Date(EPOCH - rng.int(180 * DAY)),
      vector,
      bodyWords,
    };
  }

  /** Query `index`: tenant index % tenants; even indexes a held-out row, odd a perturbed subtopic centre. */
  query(index: number): SyntheticQuery {
    const tenant = index % this.tenants;
    const rng = Rng.of(this.seed, 30, index);
    const pick = (words: readonly string[]): string => {
      const a = words[rng.int(words.length)]!;
      let b = a;
      for (let tries = 0; b === a && tries < 20; tries++) b = words[rng.int(words.length)]!;
      return b === a ? a : `${a} ${b}`;
    };
    if (index % 2 === 0) {
      const row = this.row(index, true, tenant);
      return { index, tenant, kind: 'row', topic: row.topic, vector: row.vector, text: pick(row.bodyWords) };
    }
    const topic = this.#tenantTopics[tenant]![this.#topicZipf.sample(rng)]!;
    const vector = this.#compose(topic, rng.int(SUBTOPICS), rng, WEIGHTS.latent / 2, WEIGHTS.noise / 2);
    const top = this.#topicWords[topic]!.slice(0, 10);
    return { index, tenant, kind: 'centroid', topic, vector, text: pick(top) };
  }

  #compose(topic: number, subtopic: number, rng: Rng, latentWeight: number, noiseWeight: number): Float32Array {
    const v = new Float32Array(DIMENSIONS);
    const t = this.#topics[topic]!;
    const s = this.#subtopics[topic]![subtopic]!;
    const g = this.#shared;
    for (let i = 0; i < DIMENSIONS; i++) {
      v[i] = WEIGHTS.shared * g[i]! + WEIGHTS.topic * t[i]! + WEIGHTS.subtopic * s[i]! + (noiseWeight / Math.sqrt(DIMENSIONS)) * rng.gauss();
    }
    const basis = this.#bases[topic]!;
    for (let j = 0; j < LATENT; j++) {
      const z = latentWeight * rng.gauss();
      const off = j * DIMENSIONS;
      for (let i = 0; i < DIMENSIONS; i++) v[i] = v[i]! + z * basis[off + i]!;
    }
    return normalized(v);
  }
}

/** How vectors sit relative to each other: what the synthetic data is calibrated on. */
export interface Structure {
  n: number;
  /** Mean cosine over all pairs. */
  meanPairwise: number;
  /** Mean cosine of each vector to its nearest / 10th nearest other vector. */
  meanNn1: number;
  meanNn10: number;
  /** Norm of the mean vector (anisotropy: 0 = none). */
  meanNorm: number;
}

export function structureOf(vectors: readonly Float32Array[]): Structure {
  const n = vectors.length;
  let pairSum = 0;
  let nn1 = 0;
  let nn10 = 0;
  const sims = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = dot(vectors[i]!, vectors[j]!);
      sims[m++] = d;
      if (j > i) pairSum += d;
    }
    sims.sort();
    nn1 += sims[n - 2]!;
    nn10 += sims[Math.max(0, n - 11)]!;
  }
  const mean = new Float64Array(vectors[0]?.length ?? 0);
  for (const v of vectors) for (let i = 0; i < v.length; i++) mean[i] = mean[i]! + v[i]! / n;
  return {
    n,
    meanPairwise: pairSum / ((n * (n - 1)) / 2),
    meanNn1: nn1 / n,
    meanNn10: nn10 / n,
    meanNorm: Math.sqrt(mean.reduce((a, x) => a + x * x, 0)),
  };
}
