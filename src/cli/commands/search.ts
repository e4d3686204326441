import { Option, type Command } from 'commander';
import { embedderConfig } from '../../config.ts';
import { StewardError } from '../../errors.ts';
import { createEmbedder } from '../../evidence/embedders/create-embedder.ts';
import { METRICS, SEARCH_MODES, SOURCE_TYPES, type Metric, type SearchMode, type SourceType } from '../../evidence/evidence-types.ts';
import { SqlEvidenceSearch } from '../../evidence/search-service.ts';
import { serviceAccess } from '../../services/access.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printTable } from '../output.ts';

interface SearchOptions {
  tenant?: string;
  source?: SourceType[];
  mode: SearchMode;
  metric: Metric;
  limit: number;
  since?: string;
  until?: string;
  metadata?: string;
  json?: boolean;
}

/** One line of a snippet for the table: newlines folded, cut at `width`. */
export function snippet(text: string, width = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

export function registerSearchCommand(program: Command): void {
  program.command('search')
    .description('search evidence (audit entries, tool outputs, proposals, notes) by meaning, keywords or both, as the service role')
    .argument('<query>', 'what to look for (keyword mode: websearch syntax, "a phrase", -without)')
    .option('--tenant <uuid>', 'only this tenant')
    .addOption(new Option('--source <type...>', 'only these source types').choices(SOURCE_TYPES))
    .addOption(new Option('--mode <mode>', 'how to match').choices(SEARCH_MODES).default('hybrid'))
    .addOption(new Option('--metric <metric>', 'semantic distance').choices(METRICS).default('cosine'))
    .option('--limit <n>', 'at most this many results', positiveInt('limit'), 10)
    .option('--since <iso>', 'only evidence created at or after this time')
    .option('--until <iso>', 'only evidence created before this time')
    .option('--metadata <json>', 'only evidence whose metadata contains this JSON object')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nThe embedder is STEWARD_EMBEDDER (default: the packaged sentence encoder); semantic and hybrid search compare rows of its model only.')
    .action(async (query: string, opts: SearchOptions, cmd: Command) => {
      const embedder = createEmbedder(embedderConfig(process.env));
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const hits = await new SqlEvidenceSearch(serviceAccess(db), embedder).search({
          query, mode: opts.mode, metric: opts.metric, limit: opts.limit,
          ...(opts.tenant ? { tenant_id: opts.tenant } : {}),
          ...(opts.source ? { source_types: opts.source } : {}),
          ...(opts.since ? { created_after: opts.since } : {}),
          ...(opts.until ? { created_before: opts.until } : {}),
          ...(opts.metadata ? { metadata: parseJsonOption(opts.metadata, '--metadata') } : {}),
        });
        if (opts.json) return printJson({ query, mode: opts.mode, model: embedder.modelId, hits });
        printTable(hits.map((h, i) => ({ rank: i + 1, score: h.score.toFixed(4), source: `${h.source_type}:${h.source_id ?? h.id}`, tenant: h.tenant_id, created: h.created_at, text: snippet(h.content) })),
          ['rank', 'score', 'source', 'tenant', 'created', 'text']);
      }).finally(() => embedder.close?.());
    });
}

export function parseJsonOption(text: string, option: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StewardError('invalid_input', `${option} must be a JSON object`, { field: option.replace(/^--/, '') });
  }
  return value as Record<string, unknown>;
}
