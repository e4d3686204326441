import type { Command } from 'commander';
import { serviceAccess } from '../../services/access.ts';
import { SqlTenantService } from '../../services/tenant-service.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { printJson, printLine, printTable } from '../output.ts';

export function registerTenantCommands(program: Command): void {
  const tenants = program.command('tenants').description('tenants (as the service role)');

  tenants.command('list')
    .description('list tenants')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const rows = await new SqlTenantService(serviceAccess(db)).list({ limit: Number(opts.limit) });
        if (opts.json) return printJson(rows);
        printTable(rows, ['id', 'name', 'plan', 'timezone', 'concurrency_limit', 'created_at']);
      });
    });

  tenants.command('create')
    .description('create a tenant')
    .requiredOption('--name <name>', 'display name')
    .option('--id <uuid>', 'the tenant id (default: generated)')
    .option('--plan <plan>', 'plan name', 'free')
    .option('--timezone <tz>', 'IANA time zone for quiet hours', 'UTC')
    .option('--concurrency-limit <n>', 'envelopes of this tenant running at once', '1')
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; id?: string; plan: string; timezone: string; concurrencyLimit: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const tenant = await new SqlTenantService(serviceAccess(db)).create({
          ...(opts.id ? { id: opts.id } : {}),
          name: opts.name,
          plan: opts.plan,
          timezone: opts.timezone,
          concurrency_limit: Number(opts.concurrencyLimit),
        });
        if (opts.json) return printJson(tenant);
        printLine(`created tenant ${tenant.name} (${tenant.id})`);
      });
    });
}
