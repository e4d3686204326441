import { InvalidArgumentError, type Command } from 'commander';
import { StewardError } from '../../errors.ts';
import { loadJwtSecret } from '../../http/auth/jwt-secret.ts';
import { mintToken, REQUEST_ROLES, type RequestRoleName } from '../../http/auth/tokens.ts';
import { configFrom, type GlobalOptions } from '../context.ts';
import { printJson, printLine } from '../output.ts';

/** Any uuid, as the database's current_tenant_id_uuid() accepts it (not only RFC 4122 versions). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** Longer-lived tokens are what the project keys are for; a tenant token should expire. */
const MAX_TTL_SECONDS = 366 * 86_400;

/** `90`, `30s`, `15m`, `1h`, `7d` → seconds. */
export function parseTtl(value: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[(m[2] || 's') as keyof typeof UNIT_SECONDS] : NaN;
  if (!(seconds >= 1 && seconds <= MAX_TTL_SECONDS)) throw new InvalidArgumentError('ttl must be a duration like 3600, 30m, 1h or 7d (at most 366d)');
  return seconds;
}

function role(value: string): RequestRoleName {
  if (!(REQUEST_ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`role must be one of ${REQUEST_ROLES.join(', ')}`);
  return value as RequestRoleName;
}

interface MintOptions {
  tenant?: string;
  role: RequestRoleName;
  scopes?: string;
  sub?: string;
  ttl: number;
  json?: boolean;
}

/**
 * `steward tokens mint`: an HS256 token signed with the API server's secret (the data
 * dir's, or STEWARD_JWT_SECRET), for supabase-js or curl. It does not open the database,
 * so it works while `steward start` holds an embedded data dir; the tenant is not looked
 * up (a token for an unknown tenant simply sees nothing).
 */
export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('API tokens (JWTs the API server accepts)');
  tokens.command('mint')
    .description('mint a token: a tenant\'s (authenticated, the default), anon, or service_role')
    .option('--tenant <uuid>', 'the tenant the token is scoped to (required for authenticated; not allowed for service_role)')
    .option('--role <role>', `database role: ${REQUEST_ROLES.join(', ')}`, role, 'authenticated' as RequestRoleName)
    .option('--scopes <list>', 'comma-separated scopes, e.g. guardrails:write,finance:write')
    .option('--sub <id>', 'the subject (user id) claim')
    .option('--ttl <duration>', 'lifetime: seconds, or 30m, 1h, 7d', parseTtl, 3600)
    .option('--json', 'print {"token": …}')
    .action(async (opts: MintOptions, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>());
      if (opts.role === 'authenticated' && opts.tenant === undefined) {
        throw new StewardError('invalid_input', 'an authenticated token needs --tenant (the tenant it may see)', { field: 'tenant' });
      }
      if (opts.role === 'service_role' && opts.tenant !== undefined) {
        throw new StewardError('invalid_input', 'a service_role token bypasses row level security and names no tenant; drop --tenant', { field: 'tenant' });
      }
      if (opts.tenant !== undefined && !UUID.test(opts.tenant)) {
        throw new StewardError('invalid_input', `--tenant must be a uuid, got ${JSON.stringify(opts.tenant)}`, { field: 'tenant' });
      }
      const scopes = opts.scopes?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const token = await mintToken(loadJwtSecret(config), {
        role: opts.role,
        ttlSeconds: opts.ttl,
        ...(opts.tenant !== undefined ? { tenantId: opts.tenant.toLowerCase() } : {}),
        ...(opts.sub !== undefined ? { sub: opts.sub } : {}),
        ...(scopes !== undefined ? { scopes } : {}),
      });
      if (opts.json) printJson({ token });
      else printLine(token);
    });
}
