import type { Command } from 'commander';
import type { Database } from '../../db/database.ts';
import { ConnectedAccountLifecycle } from '../../integrations/composio/index.ts';
import { serviceAccess } from '../../services/access.ts';
import { SqlConnectedAccountService, type AccountStatusChange, type ConnectedAccountStatus } from '../../services/connected-account-service.ts';
import { refreshCatalogOnActivation, requireComposio } from '../composio.ts';
import { withDatabase, type GlobalOptions } from '../context.ts';
import { printJson, printLine, printTable } from '../output.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The lifecycle as the service role; an account that turns active gets its toolkit's catalog refreshed. */
function lifecycle(db: Database): ConnectedAccountLifecycle {
  return new ConnectedAccountLifecycle({
    access: serviceAccess(db), client: requireComposio(), onActivated: refreshCatalogOnActivation(db),
    actor: { type: 'operator', id: 'cli' },
  });
}

function describeChange(c: AccountStatusChange): string {
  return `${c.account.id} ${c.account.provider} (tenant ${c.account.tenant_id}): ${c.changed ? `${c.previous_status} → ${c.account.status}` : `${c.account.status}, unchanged`}`;
}

export function registerAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('connected accounts (Composio links), as the service role');

  accounts.command('list')
    .description("list connected accounts from Steward's table")
    .option('--tenant <uuid>', 'only this tenant')
    .option('--status <status>', 'only this status (pending, active, failed, expired, inactive, revoked)')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; status?: string; limit: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        // Our own table: no Composio key needed.
        const rows = await new SqlConnectedAccountService(serviceAccess(db)).list({
          ...(opts.tenant ? { tenant_id: opts.tenant } : {}),
          ...(opts.status ? { status: opts.status as ConnectedAccountStatus } : {}),
          limit: Number(opts.limit),
        });
        if (opts.json) return printJson(rows);
        printTable(rows.map((r) => ({ ...r, composio_id: r.metadata['composio_id'] ?? '' })), ['id', 'tenant_id', 'provider', 'status', 'composio_id', 'linked_at']);
      });
    });

  accounts.command('link')
    .description('start linking an account: prints the URL the person opens to authorise')
    .requiredOption('--tenant <uuid>', 'the tenant the account belongs to')
    .requiredOption('--auth-config <id>', "Composio's auth config (ac_…) of the toolkit")
    .option('--callback-url <url>', 'where Composio sends the person afterwards')
    .option('--scope <scope>', 'a scope the link grants (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; authConfig: string; callbackUrl?: string; scope?: string[]; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const link = await lifecycle(db).initiate({
          tenant_id: opts.tenant, auth_config_id: opts.authConfig,
          ...(opts.callbackUrl ? { callback_url: opts.callbackUrl } : {}), scopes: opts.scope ?? [],
        });
        if (opts.json) return printJson(link);
        printLine(`account ${link.account.id} (${link.account.provider}) is pending; open this link to authorise it (valid until ${link.expires_at}):`);
        printLine(link.redirect_url);
        printLine('then run: steward accounts refresh --account ' + link.account.id);
      });
    });

  accounts.command('refresh')
    .description("ask Composio for accounts' status (default: every pending one); an account that became active gets its catalog synced")
    .option('--account <uuid>', 'only this account')
    .option('--tenant <uuid>', 'only this tenant\'s accounts')
    .option('--status <status>', 'accounts in this status (default pending)', 'pending')
    .option('--json', 'print JSON')
    .action(async (opts: { account?: string; tenant?: string; status: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const l = lifecycle(db);
        const changes = opts.account
          ? [await l.refresh(opts.account)]
          : await l.refreshMany({ status: opts.status as ConnectedAccountStatus, ...(opts.tenant ? { tenant_id: opts.tenant } : {}) });
        if (opts.json) return printJson(changes);
        if (changes.length === 0) printLine('no accounts to refresh');
        for (const c of changes) printLine(describeChange(c));
      });
    });

  accounts.command('revoke')
    .description('delete the account at Composio (its tokens with it) and mark it revoked')
    .requiredOption('--account <uuid>', 'the account')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'print JSON')
    .action(async (opts: { account: string; reason?: string; json?: boolean }, cmd: Command) => {
      await withDatabase(cmd.optsWithGlobals<GlobalOptions>(), async ({ db }) => {
        const change = await lifecycle(db).revoke(opts.account, opts.reason ? { reason: opts.reason } : {});
        if (opts.json) return printJson(change);
        printLine(describeChange(change));
      });
    });
}
