import type { Command } from 'commander';
import { listCatalogDrift, syncCatalog, type CatalogSyncProgress, type ToolkitSyncSummary } from '../../integrations/composio/index.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlCatalogService } from '../../services/catalog-service.ts';
import { requireComposio } from '../composio.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printLine, printTable } from '../output.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** One progress line per event worth a person's attention (stderr with --json, so stdout stays JSON). */
function describeProgress(event: CatalogSyncProgress): string | undefined {
  switch (event.type) {
    case 'toolkit_started':
      return `${event.tenantId} ${event.toolkit}: ${event.resumed ? `resuming after page ${event.pagesDone}` : 'syncing'}…`;
    case 'page_synced':
      return `${event.tenantId} ${event.toolkit}: page ${event.page}, ${event.tools} tool(s)${event.totalItems === undefined ? '' : ` of ${event.totalItems}`}`;
    case 'retrying':
      return `${event.tenantId} ${event.toolkit}: ${event.reason}; retry ${event.attempt} in ${Math.ceil(event.waitMs / 1000)} s`;
    case 'restarted':
      return `${event.tenantId} ${event.toolkit}: restarted (${event.reason})`;
    case 'tool_skipped':
      return `${event.tenantId} ${event.toolkit}: skipped ${event.slug} (${event.field}: ${event.reason})`;
    case 'toolkit_finished':
      return `${event.summary.tenantId} ${event.summary.toolkit}: done, ${summarize(event.summary)}`;
    case 'toolkit_failed':
      return `${event.tenantId} ${event.toolkit}: FAILED: ${event.error.message}`;
  }
}

function summarize(s: ToolkitSyncSummary): string {
  return `${s.tools} tool(s); added ${s.added}, changed ${s.changed} (breaking ${s.breaking}), removed ${s.removed}, unchanged ${s.unchanged}` +
    (s.flagged > 0 ? `; ${s.flagged} pending envelope(s) held for approval` : '') + (s.baseline ? ' (baseline)' : '');
}

export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description("tenants' tool catalogs, synced from Composio (COMPOSIO_API_KEY)");

  catalog.command('sync')
    .description('sync the tool catalog of each tenant\'s linked toolkits from Composio; resumable, idempotent, drift recorded')
    .option('--tenant <uuid>', 'only this tenant (repeatable)', collect)
    .option('--toolkit <slug>', 'only this toolkit (repeatable)', collect)
    .option('--page-size <n>', 'tools per request (1-1000)', positiveInt('page-size'), 100)
    .option('--json', 'print the report as JSON (progress goes to stderr)')
    .action(async (opts: { tenant?: string[]; toolkit?: string[]; pageSize: number; json?: boolean }, cmd: Command) => {
      const client = requireComposio();
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        // Ctrl-C stops between pages; the checkpoint keeps the place for the next run.
        const abort = new AbortController();
        const onSignal = (): void => abort.abort();
        process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
        const progress = (line: string) => (opts.json ? process.stderr.write(`${line}\n`) : printLine(line));
        const report = await syncCatalog({
          db, client, pageSize: opts.pageSize, signal: abort.signal,
          ...(opts.tenant ? { tenantIds: opts.tenant } : {}),
          ...(opts.toolkit ? { toolkits: opts.toolkit } : {}),
          onProgress: (event) => {
            const line = describeProgress(event);
            if (line) progress(line);
          },
        }).finally(() => process.off('SIGINT', onSignal).off('SIGTERM', onSignal));
        if (opts.json) {
          printJson({ toolkits: report.toolkits, failures: report.failures.map((f) => ({ tenantId: f.tenantId, toolkit: f.toolkit, error: f.error.message })) });
        } else {
          printLine(`synced ${report.toolkits.length} toolkit(s), ${report.failures.length} failed`);
        }
        if (report.failures.length > 0) process.exitCode = 1;
      });
    });

  catalog.command('list')
    .description('the catalog entries of a tenant (or all), as the service role')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--risk <tier>', 'only this risk tier (low, medium, high)')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; risk?: string; limit: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const rows = await new SqlCatalogService(serviceAccess(db)).list({
          ...(opts.tenant ? { tenant_id: opts.tenant } : {}),
          ...(opts.risk ? { risk: opts.risk as 'low' } : {}),
          limit: Number(opts.limit),
        });
        if (opts.json) return printJson(rows);
        printTable(rows, ['tenant_id', 'tool_slug', 'version', 'risk', 'required_scopes', 'updated_at']);
      });
    });

  catalog.command('drift')
    .description('catalog changes found by syncs (added, removed, changed with a schema diff), newest first')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--tool <slug>', 'only this tool')
    .option('--breaking', 'only breaking changes')
    .option('--since <time>', 'detected at or after this ISO time')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON (with each diff)')
    .action(async (opts: { tenant?: string; tool?: string; breaking?: boolean; since?: string; limit: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const rows = await listCatalogDrift(serviceAccess(db), {
          ...(opts.tenant ? { tenant_id: opts.tenant } : {}),
          ...(opts.tool ? { tool_slug: opts.tool } : {}),
          ...(opts.breaking ? { breaking: true } : {}),
          ...(opts.since ? { since: opts.since } : {}),
          limit: Number(opts.limit),
        });
        if (opts.json) return printJson(rows);
        printTable(rows, ['detected_at', 'tenant_id', 'tool_slug', 'change', 'from_version', 'to_version', 'breaking']);
      });
    });
}
