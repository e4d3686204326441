// Real sentences for the embedders' throughput: the prose of README.md and docs/**/*.md
// (files in name order; code blocks, tables and headings left out; markdown markup
// stripped), then of the default embedder's calibration corpus (Steward's docs as they
// were when its projection was made), split at sentence ends, 20–400 characters, each once.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
}

function prose(markdown: string): string {
  const kept: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (fenced || /^\s*(#|\||<)/.test(line)) continue;
    kept.push(line.replace(/^\s*([-*]|\d+\.)\s+/, ''));
  }
  return kept.join(' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // links → their text
    .replace(/[`*]/g, '')
    .replace(/\s+/g, ' ');
}

/** Up to `n` sentences, always the same ones for the same docs. */
export function realSentences(n: number): string[] {
  const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
  const texts = [
    ...files.map((f) => prose(readFileSync(f, 'utf8'))),
    readFileSync(join(ROOT, 'src/evidence/embedders/use-pca/calibration.txt'), 'utf8').replace(/\s+/g, ' '),
  ];
  const seen = new Set<string>();
  for (const text of texts) {
    for (const s of text.split(/(?<=[.!?])\s+/)) {
      const t = s.trim();
      if (t.length >= 20 && t.length <= 400) seen.add(t);
      if (seen.size >= n) return [...seen];
    }
  }
  return [...seen];
}
