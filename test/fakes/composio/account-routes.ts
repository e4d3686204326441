// Connected accounts and auth configs. Linking is simulated: the redirect URL points at
// the fake's own /_fake/connect/<token>, and opening it "authorises" (the account turns
// ACTIVE), so a person or a test can complete the flow without a provider.
import { accountWire, ACCOUNT_STATUSES, authConfigWire, newId, type AccountStatus, type FakeAccount, type FakeAuthConfig } from './accounts.ts';
import { TOOLKITS } from './catalog.ts';
import type { RouteContext } from './routing.ts';
import type { FakeState } from './state.ts';
import { badRequest, CODES, errorReply, listParam, page, boolParam, type Reply } from './wire.ts';

const LINK_LIFETIME_MS = 10 * 60 * 1000;

const accountNotFound = (id: string): Reply => errorReply(404, `Connected account ${id} not found`, CODES.accountNotFound, 'ConnectedAccount_NotFound');
const authConfigNotFound = (id: string): Reply => errorReply(404, `Auth config ${id} not found`, CODES.notFound, 'AuthConfig_NotFound');

function objectBody(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : undefined;
}

const wire = (state: FakeState, account: FakeAccount) => accountWire(account, state.authConfigs.get(account.authConfigId));

export function listAccounts({ state, query }: RouteContext): Reply {
  const toolkits = listParam(query, 'toolkit_slugs').map((s) => s.toLowerCase());
  const statuses = listParam(query, 'statuses');
  const unknown = statuses.find((s) => !ACCOUNT_STATUSES.includes(s as AccountStatus));
  if (unknown !== undefined) return badRequest(`Invalid status ${unknown}`);
  const users = listParam(query, 'user_ids');
  const configs = listParam(query, 'auth_config_ids');
  const ids = listParam(query, 'connected_account_ids');
  const orderBy = query.get('order_by') === 'updated_at' ? 'updatedAt' : 'createdAt';
  const direction = query.get('order_direction') === 'asc' ? 1 : -1;
  const accounts = [...state.accounts.values()]
    .filter((a) => !a.deleted)
    .filter((a) => toolkits.length === 0 || toolkits.includes(a.toolkit))
    .filter((a) => statuses.length === 0 || statuses.includes(a.status))
    .filter((a) => users.length === 0 || users.includes(a.userId))
    .filter((a) => configs.length === 0 || configs.includes(a.authConfigId))
    .filter((a) => ids.length === 0 || ids.includes(a.id))
    // Stable for equal timestamps (the seed shares one): by id.
    .sort((a, b) => direction * (a[orderBy].localeCompare(b[orderBy]) || a.id.localeCompare(b.id)));
  return page(accounts.map((a) => wire(state, a)), query);
}

export function getAccount({ state, params }: RouteContext): Reply {
  const account = state.liveAccount(params['id']!);
  return account ? { status: 200, body: wire(state, account) } : accountNotFound(params['id']!);
}

/** A new INITIATED account for `authConfigId`, its connect URL, or a refusal. */
function initiate(state: FakeState, baseUrl: string, authConfigId: unknown, userId: unknown, callbackUrl: unknown): Reply | { account: FakeAccount; redirectUrl: string; token: string } {
  if (typeof authConfigId !== 'string' || authConfigId === '') return badRequest('auth_config_id is required');
  if (typeof userId !== 'string' || userId === '') return badRequest('user_id is required');
  const config = state.authConfigs.get(authConfigId);
  if (!config || config.deleted) return authConfigNotFound(authConfigId);
  if (config.status === 'DISABLED') return errorReply(400, `Auth config ${authConfigId} is disabled`, CODES.badRequest, 'AuthConfig_Disabled');
  const now = new Date().toISOString();
  const account: FakeAccount = {
    id: newId('ca'), userId, toolkit: config.toolkit, authConfigId, status: 'INITIATED', statusReason: null, isDisabled: false,
    createdAt: now, updatedAt: now, deleted: false, callbackUrl: typeof callbackUrl === 'string' ? callbackUrl : null, statusBeforeDisable: null,
  };
  state.accounts.set(account.id, account);
  const token = newId('lt');
  state.links.set(token, account.id);
  return { account, token, redirectUrl: `${baseUrl}/_fake/connect/${token}` };
}

export function createAccount({ state, body, baseUrl }: RouteContext): Reply {
  const input = objectBody(body);
  const connection = objectBody(input?.['connection']);
  const started = initiate(state, baseUrl, objectBody(input?.['auth_config'])?.['id'], connection?.['user_id'], connection?.['callback_url']);
  if ('status' in started) return started;
  return {
    status: 201,
    body: {
      id: started.account.id,
      status: started.account.status,
      redirect_url: started.redirectUrl,
      redirect_uri: started.redirectUrl,
      connectionData: { authScheme: 'OAUTH2', val: { status: 'INITIATED', redirectUrl: started.redirectUrl } },
    },
  };
}

export function createLink({ state, body, baseUrl }: RouteContext): Reply {
  const input = objectBody(body);
  const started = initiate(state, baseUrl, input?.['auth_config_id'], input?.['user_id'], input?.['callback_url']);
  if ('status' in started) return started;
  return {
    status: 201,
    body: {
      link_token: started.token,
      redirect_url: started.redirectUrl,
      expires_at: new Date(Date.now() + LINK_LIFETIME_MS).toISOString(),
      connected_account_id: started.account.id,
    },
  };
}

export function setAccountEnabled({ state, params, body }: RouteContext): Reply {
  const account = state.liveAccount(params['id']!);
  if (!account) return accountNotFound(params['id']!);
  const enabled = objectBody(body)?.['enabled'];
  if (typeof enabled !== 'boolean') return badRequest('enabled must be a boolean');
  // Enabling returns the account to where it was, so disabling cannot cure an expiry.
  if (!enabled && !account.isDisabled) {
    account.statusBeforeDisable = account.status;
    account.status = 'INACTIVE';
  } else if (enabled && account.isDisabled) {
    account.status = account.statusBeforeDisable ?? 'ACTIVE';
    account.statusBeforeDisable = null;
  }
  account.isDisabled = !enabled;
  account.updatedAt = new Date().toISOString();
  return { status: 200, body: { success: true } };
}

/** OAuth accounts need the person again: INITIATED with a redirect URL. */
export function refreshAccount({ state, params, body, baseUrl, query }: RouteContext): Reply {
  const account = state.liveAccount(params['id']!);
  if (!account) return accountNotFound(params['id']!);
  const redirect = objectBody(body)?.['redirect_url'] ?? query.get('redirect_url');
  account.status = 'INITIATED';
  account.statusReason = null;
  account.isDisabled = false;
  account.callbackUrl = typeof redirect === 'string' ? redirect : account.callbackUrl;
  account.updatedAt = new Date().toISOString();
  const token = newId('lt');
  state.links.set(token, account.id);
  return { status: 200, body: { id: account.id, status: account.status, redirect_url: `${baseUrl}/_fake/connect/${token}` } };
}

export function deleteAccount({ state, params }: RouteContext): Reply {
  const account = state.liveAccount(params['id']!);
  if (!account) return accountNotFound(params['id']!);
  account.deleted = true;
  account.updatedAt = new Date().toISOString();
  return { status: 200, body: { success: true } };
}

// ── auth configs ─────────────────────────────────────────────────────────────────────

const liveConfig = (state: FakeState, id: string): FakeAuthConfig | undefined => {
  const config = state.authConfigs.get(id);
  return config && !config.deleted ? config : undefined;
};

export function listAuthConfigs({ state, query }: RouteContext): Reply {
  const toolkit = query.get('toolkit_slug')?.toLowerCase();
  const managed = boolParam(query, 'is_composio_managed');
  const showDisabled = boolParam(query, 'show_disabled') ?? false;
  const search = query.get('search')?.toLowerCase();
  const configs = [...state.authConfigs.values()]
    .filter((c) => !c.deleted)
    .filter((c) => toolkit === undefined || c.toolkit === toolkit)
    .filter((c) => managed === undefined || c.isComposioManaged === managed)
    .filter((c) => showDisabled || c.status === 'ENABLED')
    .filter((c) => search === undefined || c.name.toLowerCase().includes(search))
    .map((c) => authConfigWire(c, state.connectionsOf(c.id)));
  return page(configs, query);
}

export function getAuthConfig({ state, params }: RouteContext): Reply {
  const config = liveConfig(state, params['id']!);
  return config ? { status: 200, body: authConfigWire(config, state.connectionsOf(config.id)) } : authConfigNotFound(params['id']!);
}

export function createAuthConfig({ state, body }: RouteContext): Reply {
  const input = objectBody(body);
  const slug = objectBody(input?.['toolkit'])?.['slug'];
  if (typeof slug !== 'string' || !TOOLKITS.some((t) => t.slug === slug.toLowerCase())) return badRequest(`Unknown toolkit ${String(slug)}`);
  const options = objectBody(input?.['auth_config']) ?? { type: 'use_composio_managed_auth' };
  const custom = options['type'] === 'use_custom_auth';
  if (!custom && options['type'] !== 'use_composio_managed_auth') return badRequest('auth_config.type must be use_composio_managed_auth or use_custom_auth');
  const toolkit = slug.toLowerCase();
  const config: FakeAuthConfig = {
    id: newId('ac'), name: typeof options['name'] === 'string' ? options['name'] : `${toolkit} auth config`, toolkit,
    authScheme: custom && typeof options['authScheme'] === 'string' ? options['authScheme'] : 'OAUTH2',
    isComposioManaged: !custom, status: 'ENABLED', createdAt: new Date().toISOString(), deleted: false,
  };
  state.authConfigs.set(config.id, config);
  return { status: 201, body: { toolkit: { slug: toolkit }, auth_config: { id: config.id, auth_scheme: config.authScheme, is_composio_managed: config.isComposioManaged } } };
}

export function updateAuthConfig({ state, params, body }: RouteContext): Reply {
  const config = liveConfig(state, params['id']!);
  if (!config) return authConfigNotFound(params['id']!);
  const name = objectBody(body)?.['name'];
  if (typeof name === 'string') config.name = name;
  return { status: 200, body: { success: true } };
}

export function setAuthConfigStatus({ state, params }: RouteContext): Reply {
  const config = liveConfig(state, params['id']!);
  if (!config) return authConfigNotFound(params['id']!);
  const status = params['status'];
  if (status !== 'ENABLED' && status !== 'DISABLED') return badRequest('status must be ENABLED or DISABLED');
  config.status = status;
  return { status: 200, body: { success: true } };
}

export function deleteAuthConfig({ state, params }: RouteContext): Reply {
  const config = liveConfig(state, params['id']!);
  if (!config) return authConfigNotFound(params['id']!);
  config.deleted = true;
  return { status: 200, body: { success: true } };
}
