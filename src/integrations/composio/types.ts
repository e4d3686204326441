// What the client's methods take. Inputs are camelCase, as TypeScript callers write them;
// the client turns them into Composio's snake_case query strings and bodies. Responses are
// returned in Composio's own shape (schemas.ts), so they read like the API reference.
import type { ConnectedAccountStatus } from './schemas.ts';

export type ComposioApiVersion = 'v3.1' | 'v3';

export interface ComposioClientOptions {
  /** Where Composio lives, without `/api/...`: `https://backend.composio.dev`, or a fake's URL. */
  baseUrl: string;
  /** The project API key, sent as `x-api-key`. Kept in a private field, never in errors. */
  apiKey: string;
  /** Default `v3.1` (current); `v3` is the previous version, same paths and shapes. */
  apiVersion?: ComposioApiVersion;
  /** Each call's deadline, headers and body included; default 30 s. A call may set its own. */
  timeoutMs?: number;
  /**
   * Plain http sends the key in clear, so it is refused except to loopback (the local
   * fake), as Composio's own client 2.0 does; this lifts the refusal.
   */
  allowInsecureHttp?: boolean;
}

export interface CallOptions {
  /** Aborts the call (the worker stopping, an execution deadline); combined with the timeout. */
  signal?: AbortSignal;
  /** This call's deadline instead of the client's. */
  timeoutMs?: number;
}

export interface PageQuery {
  /** Items per page; Composio allows up to 1000. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

/** `latest`, or a version per toolkit: `{ gmail: '20250909_00' }`. */
export type ToolkitVersions = 'latest' | Readonly<Record<string, string>>;

export interface ListToolsQuery extends PageQuery {
  toolkitSlug?: string;
  toolSlugs?: readonly string[];
  tags?: readonly string[];
  /** Free text (`query` in v3.1, `search` in v3). */
  search?: string;
  includeDeprecated?: boolean;
  authConfigIds?: readonly string[];
  toolkitVersions?: ToolkitVersions;
}

export interface GetToolQuery {
  /** A concrete `YYYYMMDD_NN`, or `latest`. */
  version?: string;
  toolkitVersions?: ToolkitVersions;
}

export interface ListToolkitsQuery extends PageQuery {
  category?: string;
  managedBy?: 'composio' | 'all' | 'project';
  sortBy?: 'usage' | 'alphabetically';
  includeDeprecated?: boolean;
  search?: string;
}

export interface GetToolkitQuery {
  version?: string;
}

export interface ExecuteToolInput {
  arguments: Record<string, unknown>;
  /**
   * Required: without it v3.1 runs `latest`, whatever the catalog reviewed. Pin the
   * catalog's version; `latest` must be asked for by name.
   */
  version: string;
  connectedAccountId?: string;
  userId?: string;
  /**
   * Sent as `Idempotency-Key`. Composio documents no idempotency key, so it probably
   * ignores it; it costs nothing, shows in the fake's records and in any proxy's logs,
   * and starts working the day Composio honours it.
   */
  idempotencyKey?: string;
}

export interface ListConnectedAccountsQuery extends PageQuery {
  toolkitSlugs?: readonly string[];
  statuses?: readonly ConnectedAccountStatus[];
  userIds?: readonly string[];
  authConfigIds?: readonly string[];
  connectedAccountIds?: readonly string[];
  orderBy?: 'created_at' | 'updated_at';
  orderDirection?: 'asc' | 'desc';
}

export interface InitiateConnectionInput {
  authConfigId: string;
  /** Steward's id for whoever the account acts for (Composio's "user"). */
  userId: string;
  /** Where Composio sends the person after they authorise. */
  callbackUrl?: string;
}

export interface RefreshConnectedAccountInput {
  /** Where Composio sends the person after they re-authorise. */
  redirectUrl?: string;
}

export interface ListAuthConfigsQuery extends PageQuery {
  toolkitSlug?: string;
  isComposioManaged?: boolean;
  showDisabled?: boolean;
  search?: string;
}

/** A Composio-managed auth config (Composio's OAuth app); custom credentials are not handled here. */
export interface CreateAuthConfigInput {
  toolkitSlug: string;
  name?: string;
  scopes?: readonly string[];
}
