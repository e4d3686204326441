import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { registerAccountCommands } from './commands/accounts.ts';
import { registerApprovalCommands } from './commands/approvals.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerDevCommands } from './commands/dev.ts';
import { registerEvidenceCommands } from './commands/evidence.ts';
import { registerJobCommands } from './commands/jobs.ts';
import { registerOutboxCommands } from './commands/outbox.ts';
import { registerSearchCommand } from './commands/search.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerTenantCommands } from './commands/tenants.ts';
import { registerTokenCommands } from './commands/tokens.ts';

// Exit codes: 0 ok; 1 the command ran and failed (bad input, not found, broken audit
// chain, pending migrations); 2 the command line itself was wrong.
export function buildProgram(): Command {
  const program = new Command('steward')
    .description('Steward: the control plane for AI agents acting on real SaaS accounts.\n' +
      'Uses the embedded database in --data-dir by default, or PostgreSQL when DATABASE_URL is set.')
    .version(packageJson.version, '-V, --version')
    .option('--data-dir <path>', 'embedded data directory (env STEWARD_DATA_DIR; default ./.steward/data)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true });
  registerStartCommand(program);
  registerServeCommand(program);
  registerDbCommands(program);
  registerTenantCommands(program);
  registerAuditCommands(program);
  registerOutboxCommands(program);
  registerApprovalCommands(program);
  registerCatalogCommands(program);
  registerAccountCommands(program);
  registerJobCommands(program);
  registerSearchCommand(program);
  registerEvidenceCommands(program);
  registerTokenCommands(program);
  registerDevCommands(program);
  return program;
}
