import type { Command } from 'commander';
import { serviceAccess } from '../../services/access.ts';
import { SqlOutboxOperations } from '../../services/outbox-operations.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { positiveInt } from '../options.ts';
import { printJson, printLine, printTable } from '../output.ts';

export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('envelopes waiting for a person (as the service role)');

  approvals.command('list')
    .description('envelopes awaiting approval, oldest first')
    .option('--tenant <uuid>', 'only this tenant')
    .option('--limit <n>', 'at most this many', positiveInt('limit'), 100)
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; limit: number; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const rows = await new SqlOutboxOperations(serviceAccess(db)).listAwaitingApproval({ ...(opts.tenant ? { tenant_id: opts.tenant } : {}), limit: opts.limit });
        if (opts.json) return printJson(rows);
        printTable(rows.map((r) => ({ ...r, trust: JSON.stringify(r.trust_context) })), ['id', 'tenant_id', 'tool_slug', 'risk', 'trust', 'updated_at']);
      });
    });

  for (const [verb, description] of [['approve', 'let it run (the trust and evidence checks are not asked again)'], ['reject', 'end it as rejected']] as const) {
    approvals.command(verb)
      .description(`${description}`)
      .argument('<envelope>', 'the envelope id')
      .option('--reason <text>', 'why, for the audit log')
      .option('--json', 'print the envelope as JSON')
      .action(async (envelope: string, opts: { reason?: string; json?: boolean }, cmd: Command) => {
        await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
          const ops = new SqlOutboxOperations(serviceAccess(db));
          const input = { envelope_id: envelope, ...(opts.reason ? { reason: opts.reason } : {}) };
          const result = verb === 'approve' ? await ops.approve(input) : await ops.reject(input);
          if (opts.json) return printJson(result);
          printLine(`${envelope}: ${result.status}`);
        });
      });
  }
}
