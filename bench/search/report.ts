// From measurements to the goals and the markdown tables the runner prints.
import type { EmbedResult, MeasurementResult, MethodResult, SearchResult } from './protocol.ts';

export type Measurement =
  | { config: string; ok: true; result: MeasurementResult; backgroundBusy: number | null }
  | { config: string; ok: false; error: string; backgroundBusy: number | null };

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  /** null: not run, or reported without a target. */
  pass: boolean | null;
}

/** The issue's goals, on PostgreSQL; latencies are the whole asTenant call. */
export const TARGETS = { recall: 0.95, semanticP95Ms: 15, hybridP95Ms: 30 } as const;

const fmt = (x: number | null | undefined, digits: number): string => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
const fmtInt = (x: number): string => (Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));

function searchOf(ms: readonly Measurement[], config: string): SearchResult | undefined {
  const m = ms.find((x) => x.ok && x.config === config);
  return m?.ok && m.result.kind === 'search' ? m.result : undefined;
}

function embedResults(ms: readonly Measurement[]): EmbedResult[] {
  return ms.flatMap((m) => (m.ok && m.result.kind === 'embed' ? [m.result] : []));
}

export function goals(ms: readonly Measurement[]): Goal[] {
  const pg = searchOf(ms, 'pg');
  const method = (name: string): MethodResult | undefined => pg?.methods.find((m) => m.method === name);
  const semantic = method('steward-semantic');
  const hybrid = method('steward-hybrid');
  const out: Goal[] = [
    {
      goal: 'PostgreSQL, tenant-filtered recall@10 of search_evidence_semantic (vs exact)',
      target: `≥ ${TARGETS.recall}`,
      measured: semantic ? `${fmt(semantic.recall, 3)} (worst tenant ${fmt(semantic.recallWorstTenant, 3)})` : '—',
      pass: semantic?.recall == null ? null : semantic.recall >= TARGETS.recall,
    },
    {
      goal: '… at p95 latency (asTenant call)',
      target: `≤ ${TARGETS.semanticP95Ms} ms`,
      measured: semantic ? `${fmt(semantic.latencyMs.p95, 2)} ms (statement ${fmt(semantic.queryMs.p95, 2)} ms)` : '—',
      pass: semantic ? semantic.latencyMs.p95 <= TARGETS.semanticP95Ms : null,
    },
    {
      goal: 'PostgreSQL, hybrid p95 latency (asTenant call)',
      target: `≤ ${TARGETS.hybridP95Ms} ms`,
      measured: hybrid ? `${fmt(hybrid.latencyMs.p95, 2)} ms (statement ${fmt(hybrid.queryMs.p95, 2)} ms)` : '—',
      pass: hybrid ? hybrid.latencyMs.p95 <= TARGETS.hybridP95Ms : null,
    },
  ];
  for (const e of embedResults(ms)) {
    out.push({ goal: `embedding throughput, ${e.embedder} embedder`, target: 'reported', measured: `${fmt(e.textsPerSecond, 1)} texts/s`, pass: null });
  }
  return out;
}

export function renderMarkdown(ms: readonly Measurement[]): string {
  const lines: string[] = [];
  const searches = ms.flatMap((m) => (m.ok && m.result.kind === 'search' ? [m.result] : []));
  const engineName = (r: SearchResult): string => (r.engine === 'postgres' ? 'PostgreSQL' : 'PGlite');
  const scaleNote = (r: SearchResult): string => {
    const full = searches.find((s) => s.engine === 'postgres');
    return full && r.rows < full.rows ? ` **(smaller scale: ${fmtInt(r.rows)} rows, not ${fmtInt(full.rows)})**` : '';
  };

  if (searches.length > 0) {
    lines.push('### Corpus and load', '');
    lines.push('| engine | rows | tenants: largest / smallest (rows) | insert rows/s | GIN build | HNSW build | VACUUM ANALYZE | table / HNSW / GIN |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const r of searches) {
      lines.push(`| ${engineName(r)} ${r.serverVersion.replace(/^PostgreSQL /, '')}, pgvector ${r.pgvectorVersion} | ${fmtInt(r.rows)}${scaleNote(r)} | ${r.tenants}: ${fmtInt(Math.max(...r.tenantRows))} / ${fmtInt(Math.min(...r.tenantRows))} | ${fmtInt(r.load.rowsPerSecond)} (${fmt(r.load.seconds, 1)} s) | ${fmt(r.load.ginSeconds, 1)} s | ${fmt(r.load.hnswSeconds, 1)} s | ${fmt(r.load.vacuumSeconds, 1)} s | ${fmtInt(r.sizes.tableMB)} / ${fmtInt(r.sizes.hnswMB)} / ${fmtInt(r.sizes.ginMB)} MB |`);
    }
    lines.push('');
  }

  const embeds = embedResults(ms);
  const def = embeds.find((e) => e.embedder === 'default');
  if (searches.length > 0 || def) {
    lines.push('### Vector structure: synthetic corpus vs the default embedder on real sentences', '');
    lines.push('| vectors | n | mean pairwise cosine | mean cosine to 1st / 10th neighbour | norm of the mean |');
    lines.push('|---|---|---|---|---|');
    const s0 = searches[0];
    if (s0) {
      const s = s0.structure;
      lines.push(`| synthetic (every ${fmtInt(Math.floor(s0.rows / s.n))}th row) | ${s.n} | ${fmt(s.meanPairwise, 3)} | ${fmt(s.meanNn1, 3)} / ${fmt(s.meanNn10, 3)} | ${fmt(s.meanNorm, 3)} |`);
    }
    if (def) {
      const s = def.structure;
      lines.push(`| default embedder, real sentences | ${s.n} | ${fmt(s.meanPairwise, 3)} | ${fmt(s.meanNn1, 3)} / ${fmt(s.meanNn10, 3)} | ${fmt(s.meanNorm, 3)} |`);
    }
    lines.push('');
  }

  for (const r of searches) {
    lines.push(`### ${engineName(r)}: ${fmtInt(r.rows)} rows${scaleNote(r)}, ${r.tenants} tenants, ${r.queries} tenant-filtered queries × ${r.reps} pass(es), top-10, as the query's tenant (RLS; \`-svc\`: the service role narrowing to that tenant)`, '');
    lines.push('| method | recall@10 vs exact | worst tenant | rows returned (short) | p50 ms | p95 ms | statement p50 / p95 ms |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const m of r.methods) {
      const rows = `${fmt(m.rowsMean, 2)} (${fmt(m.shortShare * 100, 0)}%)${m.keywordRowsMean === null ? '' : `, ${fmt(m.keywordRowsMean, 1)} by keyword`}`;
      lines.push(`| ${m.method} | ${fmt(m.recall, 3)} | ${fmt(m.recallWorstTenant, 3)} | ${rows} | ${fmt(m.latencyMs.p50, 2)} | ${fmt(m.latencyMs.p95, 2)} | ${fmt(m.queryMs.p50, 2)} / ${fmt(m.queryMs.p95, 2)} |`);
    }
    lines.push('', `Plans of the plain statements: ${Object.entries(r.plans).map(([k, v]) => `${k}: \`${v}\``).join('; ')}. Machine busy during the queries: ${fmt(r.machineBusy, 2)}.`, '');
  }

  if (embeds.length > 0) {
    lines.push('### Embedding throughput (real sentences from README.md, docs/ and the calibration corpus)', '');
    lines.push('| embedder | model id | texts (mean chars) | texts per call | first call (load) | texts/s | machine busy |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const e of embeds) {
      lines.push(`| ${e.embedder} | \`${e.modelId}\` | ${e.texts} (${fmt(e.meanChars, 0)}) | ${e.batch} | ${fmtInt(e.loadMs)} ms | **${fmt(e.textsPerSecond, 1)}** | ${fmt(e.machineBusy, 2)} |`);
    }
    lines.push('');
  }

  lines.push('### Goals', '');
  lines.push('| goal | target | measured | |');
  lines.push('|---|---|---|---|');
  for (const g of goals(ms)) lines.push(`| ${g.goal} | ${g.target} | ${g.measured} | ${g.pass === null ? (g.target === 'reported' ? '' : 'not run') : g.pass ? 'PASS' : 'FAIL'} |`);

  const failures = ms.filter((m) => !m.ok);
  if (failures.length > 0) {
    lines.push('', '### FAILED measurements', '');
    for (const f of failures) if (!f.ok) lines.push(`- ${f.config}: ${f.error.split('\n').slice(0, 6).join(' / ')}`);
  }
  return lines.join('\n');
}
