import { Option, type Command } from 'commander';
import { EMBEDDERS, embedderConfig } from '../../config.ts';
import { buildContext } from '../../evidence/context-builder.ts';
import { createEmbedder } from '../../evidence/embedders/create-embedder.ts';
import type { Embedder } from '../../evidence/embedders/embedder.ts';
import { countByModel } from '../../evidence/evidence-queries.ts';
import { SOURCE_TYPES, type SourceType } from '../../evidence/evidence-types.ts';
import { addEvidence } from '../../evidence/ingest-notes.ts';
import { evidenceForProposal } from '../../evidence/proposal-evidence.ts';
import { reindexEvidence } from '../../evidence/reindex.ts';
import { SqlTrustSuggestionService, SUGGESTION_STATUSES } from '../../evidence/trust-suggestion-service.ts';
import { serviceAccess } from '../../services/access.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printLine, printTable } from '../output.ts';
import { parseJsonOption, snippet } from './search.ts';

/** The configured embedder, or the one --model names; closed when `fn` ends. */
async function withEmbedder<T>(model: string | undefined, fn: (embedder: Embedder) => Promise<T>): Promise<T> {
  const embedder = createEmbedder(embedderConfig(model ? { ...process.env, STEWARD_EMBEDDER: model } : process.env));
  try {
    return await fn(embedder);
  } finally {
    await embedder.close?.();
  }
}

export function registerEvidenceCommands(program: Command): void {
  const evidence = program.command('evidence').description('evidence memory: embedding, retrieval, guardrail learning, context (as the service role)');

  evidence.command('reindex')
    .description('collect new proposals, tool outputs and audit entries, then embed every row that has no embedding or one of another model')
    .addOption(new Option('--model <embedder>', 'embed with this embedder instead of STEWARD_EMBEDDER').choices(EMBEDDERS))
    .option('--batch <n>', 'texts per embedding call', positiveInt('batch'), 32)
    .option('--limit <n>', 'embed at most this many rows now', positiveInt('limit'))
    .option('--tenant <uuid>', 'embed only this tenant\'s rows')
    .option('--no-collect', 'embed only; do not collect new sources first')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { model?: string; batch: number; limit?: number; tenant?: string; collect: boolean; json?: boolean }, cmd: Command) => {
      await withEmbedder(opts.model, (embedder) =>
        withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
          // Progress on stderr, so stdout stays the result (and JSON with --json).
          const report = await reindexEvidence(db, embedder, {
            batchSize: opts.batch, collect: opts.collect,
            ...(opts.limit ? { limit: opts.limit } : {}),
            ...(opts.tenant ? { tenantId: opts.tenant } : {}),
            onProgress: (p) => process.stderr.write(`${p.model}: embedded ${p.embedded}/${p.total}${p.total ? ` (${Math.floor((100 * p.embedded) / p.total)}%)` : ''}${p.skipped ? `, ${p.skipped} skipped` : ''}\n`),
          });
          if (opts.json) return printJson(report);
          const collected = Object.entries(report.collected).map(([type, c]) => `${c.sources} ${type} (${c.chunks} rows)`).join(', ');
          if (collected) printLine(`collected ${collected}`);
          printLine(`embedded ${report.embedded} of ${report.total} row(s) with ${report.model} in ${report.ms} ms; ${report.remaining} still to embed`);
        }));
    });

  evidence.command('status')
    .description('evidence rows per embedding model (none: not embedded yet) and the active model')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, cmd: Command) => {
      const active = createEmbedder(embedderConfig(process.env)).modelId;
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const counts = await db.asService((tx) => countByModel(tx, opts.tenant));
        if (opts.json) return printJson({ active_model: active, models: counts });
        printLine(`active model: ${active}`);
        printTable(counts.map((c) => ({ model: c.embedding_model ?? '(not embedded)', rows: c.rows, active: c.embedding_model === active ? 'yes' : '' })), ['model', 'rows', 'active']);
      });
    });

  evidence.command('add')
    .description('add an operator note or a document as evidence (embedded by the next reindex)')
    .requiredOption('--tenant <uuid>', 'whose evidence')
    .requiredOption('--content <text>', 'the text')
    .addOption(new Option('--type <type>', 'source type').choices(['note', 'document']).default('note'))
    .option('--source-id <id>', 'what it is about or where it came from')
    .option('--metadata <json>', 'a JSON object stored with it')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; content: string; type: 'note' | 'document'; sourceId?: string; metadata?: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const added = await addEvidence(serviceAccess(db), {
          tenant_id: opts.tenant, source_type: opts.type, content: opts.content,
          ...(opts.sourceId ? { source_id: opts.sourceId } : {}),
          ...(opts.metadata ? { metadata: parseJsonOption(opts.metadata, '--metadata') } : {}),
        });
        if (opts.json) return printJson(added);
        printLine(`added ${added.source_type} ${added.id} for tenant ${added.tenant_id}`);
      });
    });

  evidence.command('for-proposal')
    .description('evidence about an envelope (what a require_evidence check can point at)')
    .argument('<envelope>', 'the envelope id')
    .option('--limit <n>', 'at most this many', positiveInt('limit'), 5)
    .addOption(new Option('--source <type...>', 'only these source types').choices(SOURCE_TYPES))
    .option('--json', 'print JSON')
    .action(async (envelope: string, opts: { limit: number; source?: SourceType[]; json?: boolean }, cmd: Command) => {
      await withEmbedder(undefined, (embedder) =>
        withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
          const found = await evidenceForProposal(serviceAccess(db), embedder, { envelope_id: envelope, limit: opts.limit, ...(opts.source ? { source_types: opts.source } : {}) });
          if (opts.json) return printJson(found);
          printTable(found.evidence.map((h, i) => ({ rank: i + 1, score: h.score.toFixed(4), source: `${h.source_type}:${h.source_id ?? h.id}`, created: h.created_at, text: snippet(h.content) })), ['rank', 'score', 'source', 'created', 'text']);
        }));
    });

  evidence.command('suggest')
    .description('guardrail learning: the most similar past decisions and a suggested trust adjustment, recorded for review (never applied)')
    .argument('<envelope>', 'the envelope id')
    .option('--neighbours <n>', 'similar decisions to weigh', positiveInt('neighbours'), 10)
    .option('--json', 'print JSON')
    .action(async (envelope: string, opts: { neighbours: number; json?: boolean }, cmd: Command) => {
      await withEmbedder(undefined, (embedder) =>
        withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
          const s = await new SqlTrustSuggestionService(serviceAccess(db), embedder).suggest({ envelope_id: envelope, neighbours: opts.neighbours });
          if (opts.json) return printJson(s);
          printLine(`suggestion ${s.id} for envelope ${s.envelope_id} (${s.tool_slug}): threshold ${s.current_threshold ?? 'none'} → ${s.suggested_threshold ?? 'none'} (adjustment ${s.adjustment})`);
          for (const reason of s.reasons) printLine(`  - ${reason}`);
        }));
    });

  evidence.command('suggestions')
    .description('recorded trust suggestions, newest first')
    .option('--tenant <uuid>', 'only this tenant')
    .addOption(new Option('--status <status>', 'only this status').choices(SUGGESTION_STATUSES))
    .option('--limit <n>', 'at most this many', positiveInt('limit'), 100)
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; status?: (typeof SUGGESTION_STATUSES)[number]; limit: number; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        // Listing embeds nothing: the hashing embedder stands in and is never called.
        const rows = await new SqlTrustSuggestionService(serviceAccess(db), createEmbedder({ kind: 'hashing' })).list({
          ...(opts.tenant ? { tenant_id: opts.tenant } : {}), ...(opts.status ? { status: opts.status } : {}), limit: opts.limit,
        });
        if (opts.json) return printJson(rows);
        printTable(rows, ['id', 'tenant_id', 'envelope_id', 'tool_slug', 'current_threshold', 'suggested_threshold', 'status', 'created_at']);
      });
    });

  evidence.command('review')
    .description('record a person\'s review of a suggestion (guardrails are not changed)')
    .argument('<suggestion>', 'the suggestion id')
    .addOption(new Option('--accept', 'accept it').conflicts('dismiss'))
    .addOption(new Option('--dismiss', 'dismiss it').conflicts('accept'))
    .option('--note <text>', 'why')
    .option('--reviewer <name>', 'who reviewed it', process.env.USER ?? 'operator')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { accept?: boolean; dismiss?: boolean; note?: string; reviewer: string; json?: boolean }, cmd: Command) => {
      if (!opts.accept && !opts.dismiss) cmd.error('give --accept or --dismiss', { exitCode: 2 });
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const r = await new SqlTrustSuggestionService(serviceAccess(db), createEmbedder({ kind: 'hashing' })).review({
          id, status: opts.accept ? 'accepted' : 'dismissed', reviewer: opts.reviewer, ...(opts.note ? { note: opts.note } : {}),
        });
        if (opts.json) return printJson(r);
        printLine(`suggestion ${r.id}: ${r.status} by ${r.reviewed_by}${r.status === 'accepted' ? ' (change the threshold with the guardrails when you mean to: it is unchanged)' : ''}`);
      });
    });

  evidence.command('context')
    .description('ranked, de-duplicated evidence snippets with their sources that fit a token budget, for an agent\'s prompt')
    .argument('<query>', 'what the agent is working on')
    .requiredOption('--tenant <uuid>', 'whose evidence')
    .option('--budget <tokens>', 'token budget (≈ 4 characters a token)', positiveInt('budget'), 1000)
    .addOption(new Option('--source <type...>', 'only these source types').choices(SOURCE_TYPES))
    .option('--json', 'print JSON')
    .action(async (query: string, opts: { tenant: string; budget: number; source?: SourceType[]; json?: boolean }, cmd: Command) => {
      await withEmbedder(undefined, (embedder) =>
        withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
          const c = await buildContext(serviceAccess(db), embedder, { tenant_id: opts.tenant, query, budget_tokens: opts.budget, ...(opts.source ? { source_types: opts.source } : {}) });
          if (opts.json) return printJson(c);
          for (const s of c.snippets) printLine(`[${s.rank}] ${s.source.type}:${s.source.id ?? s.source.evidence_id} (${s.tokens} tokens)\n${s.content}\n`);
          printLine(`${c.snippets.length} snippet(s), ${c.used_tokens} of ${c.budget_tokens} tokens`);
        }));
    });
}
