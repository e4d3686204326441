// The fake's connected accounts and auth configs, and how they look on the wire. The
// seed mirrors db/seeds/000_demo_tenant.sql (its `composio_id`s), plus one account in
// each status Steward must handle: INITIATED, FAILED, INACTIVE.
import { randomBytes } from 'node:crypto';

export type AccountStatus = 'INITIALIZING' | 'INITIATED' | 'ACTIVE' | 'FAILED' | 'EXPIRED' | 'INACTIVE' | 'REVOKED';
export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['INITIALIZING', 'INITIATED', 'ACTIVE', 'FAILED', 'EXPIRED', 'INACTIVE', 'REVOKED'];

export interface FakeAccount {
  id: string;
  userId: string;
  toolkit: string;
  authConfigId: string;
  status: AccountStatus;
  statusReason: string | null;
  isDisabled: boolean;
  createdAt: string;
  updatedAt: string;
  deleted: boolean;
  /** Where the fake's connect page sends the person after "authorising". */
  callbackUrl: string | null;
  /** The status to return to when enabled again. */
  statusBeforeDisable: AccountStatus | null;
}

export interface FakeAuthConfig {
  id: string;
  name: string;
  toolkit: string;
  authScheme: string;
  isComposioManaged: boolean;
  status: 'ENABLED' | 'DISABLED';
  createdAt: string;
  deleted: boolean;
}

export const DEMO_TENANT = '11111111-1111-1111-1111-111111111111';
export const SECOND_TENANT = '77777777-7777-7777-7777-777777777777';
const SEEDED_AT = '2025-09-09T12:00:00.000Z';

export function newId(prefix: 'ca' | 'ac' | 'lt'): string {
  return `${prefix}_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export function seedAuthConfigs(): Map<string, FakeAuthConfig> {
  const configs = ['gmail', 'slack', 'hubspot', 'github'].map((toolkit): FakeAuthConfig => ({
    id: `ac_demo_${toolkit}`, name: `${toolkit} (Composio managed)`, toolkit, authScheme: 'OAUTH2',
    isComposioManaged: true, status: 'ENABLED', createdAt: SEEDED_AT, deleted: false,
  }));
  return new Map(configs.map((c) => [c.id, c]));
}

export function seedAccounts(): Map<string, FakeAccount> {
  const account = (id: string, toolkit: string, userId: string, status: AccountStatus, statusReason: string | null = null): FakeAccount => ({
    id, userId, toolkit, authConfigId: `ac_demo_${toolkit}`, status, statusReason, isDisabled: status === 'INACTIVE',
    createdAt: SEEDED_AT, updatedAt: SEEDED_AT, deleted: false, callbackUrl: null, statusBeforeDisable: status === 'INACTIVE' ? 'ACTIVE' : null,
  });
  const accounts = [
    account('ca_demo_gmail', 'gmail', DEMO_TENANT, 'ACTIVE'),
    account('ca_demo_slack', 'slack', DEMO_TENANT, 'ACTIVE'),
    account('ca_demo_hubspot', 'hubspot', DEMO_TENANT, 'EXPIRED', 'The refresh token was revoked or expired; the user must authorise again'),
    account('ca_second_slack', 'slack', SECOND_TENANT, 'ACTIVE'),
    account('ca_demo_github', 'github', DEMO_TENANT, 'INITIATED'),
    account('ca_failed_github', 'github', SECOND_TENANT, 'FAILED', 'OAuth error: access_denied'),
    account('ca_inactive_gmail', 'gmail', SECOND_TENANT, 'INACTIVE', 'Disabled by the project'),
  ];
  return new Map(accounts.map((a) => [a.id, a]));
}

/**
 * As GET /connected_accounts answers, credentials included: a real response carries
 * tokens in `state.val` and `data`, and the client must be seen to drop them.
 */
export function accountWire(account: FakeAccount, config: FakeAuthConfig | undefined): Record<string, unknown> {
  const val: Record<string, unknown> = { status: account.status };
  if (account.status === 'ACTIVE' || account.status === 'INACTIVE') {
    Object.assign(val, { access_token: `fake-access-token-${account.id}`, refresh_token: `fake-refresh-token-${account.id}`, token_type: 'Bearer', expires_in: 3599 });
  }
  if (account.status === 'FAILED') val['error'] = account.statusReason;
  if (account.status === 'EXPIRED') val['expired_at'] = account.updatedAt;
  if (account.status === 'INITIATED') val['redirectUrl'] = 'https://backend.composio.dev/api/v3/s/fake';
  return {
    id: account.id,
    user_id: account.userId,
    status: account.status,
    status_reason: account.statusReason,
    is_disabled: account.isDisabled,
    toolkit: { slug: account.toolkit },
    auth_config: {
      id: account.authConfigId,
      auth_scheme: config?.authScheme ?? 'OAUTH2',
      is_composio_managed: config?.isComposioManaged ?? true,
      is_disabled: config?.status === 'DISABLED',
    },
    state: { authScheme: config?.authScheme ?? 'OAUTH2', val },
    data: { ...val },
    params: {},
    created_at: account.createdAt,
    updated_at: account.updatedAt,
    test_request_endpoint: '',
  };
}

/** As GET /auth_configs answers; `credentials` shows what a custom config would leak. */
export function authConfigWire(config: FakeAuthConfig, connections: number): Record<string, unknown> {
  return {
    id: config.id,
    uuid: `00000000-0000-4000-8000-${config.id.replace(/[^a-z0-9]/gi, '').slice(-12).padStart(12, '0')}`,
    type: config.isComposioManaged ? 'default' : 'custom',
    toolkit: { slug: config.toolkit, logo: `https://logos.composio.dev/api/${config.toolkit}` },
    name: config.name,
    auth_scheme: config.authScheme,
    is_composio_managed: config.isComposioManaged,
    credentials: config.isComposioManaged ? {} : { client_id: 'fake-client-id', client_secret: 'fake-client-secret' },
    status: config.status,
    created_at: config.createdAt,
    last_updated_at: config.createdAt,
    no_of_connections: connections,
    tool_access_config: {},
  };
}
