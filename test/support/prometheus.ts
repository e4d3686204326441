/**
 * The Prometheus text format, parsed enough for assertions on values: samples with
 * their labels, and each metric's TYPE. Label values here are ids and words, so the
 * escapes (\", \\, \n) are undone but never needed.
 */
export interface Scrape {
  samples: { name: string; labels: Record<string, string>; value: number }[];
  types: Map<string, string>;
}

export function parsePrometheus(text: string): Scrape {
  const scrape: Scrape = { samples: [], types: new Map() };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) scrape.types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    scrape.samples.push({ name: m[1]!, labels, value: Number(m[3]!.replace(/^\+Inf$/, 'Infinity')) });
  }
  return scrape;
}

/**
 * The value of the one sample named `name` whose labels are exactly `labels`; undefined
 * when there is none (so a missing series fails an equality assertion on its value).
 */
export function sampleValue(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  const found = scrape.samples.filter((s) =>
    s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}
