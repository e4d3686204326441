import type { Command } from 'commander';
import { serviceAccess } from '../../services/access.ts';
import { SqlAuditLogger } from '../../services/audit-logger.ts';
import { parseInput, uuid } from '../../services/validation.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { printJson, printLine } from '../output.ts';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the append-only, hash-chained audit log');

  audit.command('verify')
    .description('recompute every hash chain; report the first broken link of each (exit 1 if any)')
    .option('--tenant <uuid>', 'only this tenant\'s chain')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }, cmd: Command) => {
      const tenant = opts.tenant === undefined ? undefined : parseInput(uuid, opts.tenant, 'tenant');
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const broken = await new SqlAuditLogger(serviceAccess(db)).verify(tenant);
        if (opts.json) printJson({ intact: broken.length === 0, broken });
        else if (broken.length === 0) printLine(`audit log intact${tenant ? ` for tenant ${tenant}` : ''}`);
        else {
          for (const b of broken) {
            printLine(`broken link: chain ${b.tenant_id ?? '(no tenant)'}, row id ${b.id} (position ${b.chain_seq}): ${b.reason}`);
          }
        }
        if (broken.length > 0) process.exitCode = 1;
      });
    });
}
