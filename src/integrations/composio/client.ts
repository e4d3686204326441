// A small typed client for Composio's HTTP API (v3.1, or v3), over global fetch.
//
// Assumptions, where /work/shared/reference/composio-api.md is unsure or silent (checked
// against ComposioHQ/composio docs/public/openapi.json and docs.composio.dev):
// - Paths live under `/api/v3.1` (default) or `/api/v3`, with the same shapes; the only
//   difference this client sees is the tools' free-text filter (`query` vs `search`).
// - Error bodies are `{error: {message, code, slug?, status, request_id?, errors?}}`,
//   but a 429 may come flat (`{message}`) and a proxy's 502 as HTML: all are read, and
//   the status alone decides the kind when the body says nothing.
// - `x-should-retry: true|false` may override the kind of a status (Composio's
//   generated clients obey it), never for 401/403/409.
// - Composio has no idempotency key (spec, SDK). `Idempotency-Key` is sent anyway and
//   Steward dedupes on the envelope's external_id itself; a retry after a timeout may
//   repeat the side effect.
// - Nothing is retried here: execute is not idempotent, and the outbox worker owns retry
//   timing (its risk tiers and Retry-After). Every failure is a ComposioError with a kind.
// - An expired or revoked account fails execute with 410 (code 1820) or 422: both are
//   plain 4xx, so `permanent`; the code is kept for whoever classifies re-auth later.
// - A tool that ran and failed upstream is HTTP 200 with `successful: false`: returned,
//   not thrown, because it is an answer about the tool, not about the call.
// - A response field we rely on with an unexpected type or value (a new account status
//   included) is a permanent error naming its path: better loud than a wrong decision.
// - PATCH …/status, DELETE and refresh answer `{success: true}` / `{id, status,
//   redirect_url}`; a 200 with `success: false` is treated as not matching the API.
import { StewardError } from '../../errors.ts';
import { paginate } from './pagination.ts';
import { sendRequest, type Endpoint, type RequestSpec } from './request.ts';
import {
  authConfigSchema, connectedAccountSchema, connectionRequestSchema, connectLinkSchema, createdAuthConfigSchema,
  pageOf, refreshedAccountSchema, successSchema, toolExecutionSchema, toolkitDetailSchema, toolkitSchema, toolSchema,
  type AuthConfig, type ConnectedAccount, type ConnectionRequest, type ConnectLink, type CreatedAuthConfig, type Page,
  type RefreshedAccount, type Tool, type ToolExecution, type Toolkit, type ToolkitDetail,
} from './schemas.ts';
import type {
  CallOptions, ComposioApiVersion, ComposioClientOptions, CreateAuthConfigInput, ExecuteToolInput, GetToolkitQuery,
  GetToolQuery, InitiateConnectionInput, ListAuthConfigsQuery, ListConnectedAccountsQuery, ListToolkitsQuery,
  ListToolsQuery, RefreshConnectedAccountInput,
} from './types.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const toolPage = pageOf(toolSchema);
const toolkitPage = pageOf(toolkitSchema);
const connectedAccountPage = pageOf(connectedAccountSchema);
const authConfigPage = pageOf(authConfigSchema);

export class ComposioClient {
  readonly apiVersion: ComposioApiVersion;
  // Private, so neither util.inspect, console.log nor JSON.stringify of the client shows it.
  readonly #endpoint: Endpoint;

  constructor(options: ComposioClientOptions) {
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      throw new StewardError('config_invalid', 'the Composio API key is empty', { field: 'apiKey' });
    }
    const url = parseBaseUrl(options.baseUrl, options.allowInsecureHttp ?? false);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new StewardError('config_invalid', `the Composio timeout must be a positive integer of milliseconds, not ${timeoutMs}`, { field: 'timeoutMs' });
    }
    this.apiVersion = options.apiVersion ?? 'v3.1';
    this.#endpoint = { apiUrl: `${url}/api/${this.apiVersion}`, apiKey: options.apiKey, timeoutMs };
  }

  // ── tools ────────────────────────────────────────────────────────────────────────

  /** One page of tools; follow `next_cursor`, or use iterateTools. */
  listTools(query: ListToolsQuery = {}, options?: CallOptions): Promise<Page<Tool>> {
    return this.#send({
      method: 'GET', path: '/tools', schema: toolPage,
      query: {
        toolkit_slug: query.toolkitSlug, tool_slugs: query.toolSlugs, tags: query.tags,
        [this.apiVersion === 'v3' ? 'search' : 'query']: query.search,
        include_deprecated: query.includeDeprecated, auth_config_ids: query.authConfigIds,
        toolkit_versions: query.toolkitVersions, limit: query.limit, cursor: query.cursor,
      },
    }, options);
  }

  /** Every tool matching `query`, page after page. */
  iterateTools(query: Omit<ListToolsQuery, 'cursor'> = {}, options?: CallOptions): AsyncGenerator<Tool, void, undefined> {
    return paginate('GET /tools', (cursor) => this.listTools({ ...query, cursor }, options));
  }

  /** One tool at a version (default: the API's, `latest` in v3.1); 404 when unknown. */
  getTool(slug: string, query: GetToolQuery = {}, options?: CallOptions): Promise<Tool> {
    return this.#send({
      method: 'GET', path: `/tools/${segment(slug)}`, schema: toolSchema,
      query: { version: query.version, toolkit_versions: query.toolkitVersions },
    }, options);
  }

  /**
   * Runs a tool for a connected account. Resolves with Composio's answer, also when the
   * tool failed upstream (`successful: false`); rejects with a ComposioError when the
   * call itself failed.
   */
  executeTool(slug: string, input: ExecuteToolInput, options?: CallOptions): Promise<ToolExecution> {
    const body: Record<string, unknown> = { arguments: input.arguments, version: input.version };
    if (input.connectedAccountId !== undefined) body['connected_account_id'] = input.connectedAccountId;
    if (input.userId !== undefined) body['user_id'] = input.userId;
    return this.#send({
      method: 'POST', path: `/tools/execute/${segment(slug)}`, schema: toolExecutionSchema, body,
      headers: input.idempotencyKey === undefined ? {} : { 'idempotency-key': input.idempotencyKey },
    }, options);
  }

  // ── toolkits ─────────────────────────────────────────────────────────────────────

  listToolkits(query: ListToolkitsQuery = {}, options?: CallOptions): Promise<Page<Toolkit>> {
    return this.#send({
      method: 'GET', path: '/toolkits', schema: toolkitPage,
      query: {
        category: query.category, managed_by: query.managedBy, sort_by: query.sortBy,
        include_deprecated: query.includeDeprecated, search: query.search, limit: query.limit, cursor: query.cursor,
      },
    }, options);
  }

  iterateToolkits(query: Omit<ListToolkitsQuery, 'cursor'> = {}, options?: CallOptions): AsyncGenerator<Toolkit, void, undefined> {
    return paginate('GET /toolkits', (cursor) => this.listToolkits({ ...query, cursor }, options));
  }

  getToolkit(slug: string, query: GetToolkitQuery = {}, options?: CallOptions): Promise<ToolkitDetail> {
    return this.#send({ method: 'GET', path: `/toolkits/${segment(slug)}`, schema: toolkitDetailSchema, query: { version: query.version } }, options);
  }

  // ── connected accounts ───────────────────────────────────────────────────────────

  listConnectedAccounts(query: ListConnectedAccountsQuery = {}, options?: CallOptions): Promise<Page<ConnectedAccount>> {
    return this.#send({
      method: 'GET', path: '/connected_accounts', schema: connectedAccountPage,
      query: {
        toolkit_slugs: query.toolkitSlugs, statuses: query.statuses, user_ids: query.userIds,
        auth_config_ids: query.authConfigIds, connected_account_ids: query.connectedAccountIds,
        order_by: query.orderBy, order_direction: query.orderDirection, limit: query.limit, cursor: query.cursor,
      },
    }, options);
  }

  iterateConnectedAccounts(query: Omit<ListConnectedAccountsQuery, 'cursor'> = {}, options?: CallOptions): AsyncGenerator<ConnectedAccount, void, undefined> {
    return paginate('GET /connected_accounts', (cursor) => this.listConnectedAccounts({ ...query, cursor }, options));
  }

  /** The account without its credentials (see schemas.ts); 404 (code 1803) when unknown. */
  getConnectedAccount(id: string, options?: CallOptions): Promise<ConnectedAccount> {
    return this.#send({ method: 'GET', path: `/connected_accounts/${segment(id)}`, schema: connectedAccountSchema }, options);
  }

  /**
   * Starts linking an account with an auth config: the new account is INITIATED and
   * the person opens `redirect_url` to authorise (OAuth), after which it turns ACTIVE.
   */
  initiateConnectedAccount(input: InitiateConnectionInput, options?: CallOptions): Promise<ConnectionRequest> {
    const connection: Record<string, unknown> = { user_id: input.userId };
    if (input.callbackUrl !== undefined) connection['callback_url'] = input.callbackUrl;
    return this.#send({
      method: 'POST', path: '/connected_accounts', schema: connectionRequestSchema,
      body: { auth_config: { id: input.authConfigId }, connection },
    }, options);
  }

  /** The same through Composio's hosted Connect Link page, which also asks for any extra fields. */
  createConnectLink(input: InitiateConnectionInput, options?: CallOptions): Promise<ConnectLink> {
    const body: Record<string, unknown> = { auth_config_id: input.authConfigId, user_id: input.userId };
    if (input.callbackUrl !== undefined) body['callback_url'] = input.callbackUrl;
    return this.#send({ method: 'POST', path: '/connected_accounts/link', schema: connectLinkSchema, body }, options);
  }

  /** Re-authentication of an EXPIRED/FAILED account; `redirect_url` when a person must act. */
  refreshConnectedAccount(id: string, input: RefreshConnectedAccountInput = {}, options?: CallOptions): Promise<RefreshedAccount> {
    return this.#send({
      method: 'POST', path: `/connected_accounts/${segment(id)}/refresh`, schema: refreshedAccountSchema,
      body: input.redirectUrl === undefined ? {} : { redirect_url: input.redirectUrl },
    }, options);
  }

  /** Marks the account INACTIVE: tools refuse to run with it until it is enabled again. */
  async disableConnectedAccount(id: string, options?: CallOptions): Promise<void> {
    await this.#send({ method: 'PATCH', path: `/connected_accounts/${segment(id)}/status`, schema: successSchema, body: { enabled: false } }, options);
  }

  async enableConnectedAccount(id: string, options?: CallOptions): Promise<void> {
    await this.#send({ method: 'PATCH', path: `/connected_accounts/${segment(id)}/status`, schema: successSchema, body: { enabled: true } }, options);
  }

  /** Deletes the account (Composio soft-deletes: it is gone from every read). */
  async deleteConnectedAccount(id: string, options?: CallOptions): Promise<void> {
    await this.#send({ method: 'DELETE', path: `/connected_accounts/${segment(id)}`, schema: successSchema }, options);
  }

  // ── auth configs ─────────────────────────────────────────────────────────────────

  listAuthConfigs(query: ListAuthConfigsQuery = {}, options?: CallOptions): Promise<Page<AuthConfig>> {
    return this.#send({
      method: 'GET', path: '/auth_configs', schema: authConfigPage,
      query: {
        toolkit_slug: query.toolkitSlug, is_composio_managed: query.isComposioManaged, show_disabled: query.showDisabled,
        search: query.search, limit: query.limit, cursor: query.cursor,
      },
    }, options);
  }

  iterateAuthConfigs(query: Omit<ListAuthConfigsQuery, 'cursor'> = {}, options?: CallOptions): AsyncGenerator<AuthConfig, void, undefined> {
    return paginate('GET /auth_configs', (cursor) => this.listAuthConfigs({ ...query, cursor }, options));
  }

  getAuthConfig(id: string, options?: CallOptions): Promise<AuthConfig> {
    return this.#send({ method: 'GET', path: `/auth_configs/${segment(id)}`, schema: authConfigSchema }, options);
  }

  /** A Composio-managed auth config for a toolkit: what initiate and links need first. */
  createAuthConfig(input: CreateAuthConfigInput, options?: CallOptions): Promise<CreatedAuthConfig> {
    const authConfig: Record<string, unknown> = { type: 'use_composio_managed_auth' };
    if (input.name !== undefined) authConfig['name'] = input.name;
    if (input.scopes !== undefined) authConfig['credentials'] = { scopes: [...input.scopes] };
    return this.#send({
      method: 'POST', path: '/auth_configs', schema: createdAuthConfigSchema,
      body: { toolkit: { slug: input.toolkitSlug }, auth_config: authConfig },
    }, options);
  }

  #send<T>(spec: RequestSpec<T>, options: CallOptions | undefined): Promise<T> {
    return sendRequest(this.#endpoint, spec, options);
  }
}

/** One path segment, so an id can never reach another path (`../`, `?`, `/`). */
function segment(value: string): string {
  if (value === '') throw new StewardError('invalid_input', 'an empty id or slug cannot name a Composio resource');
  return encodeURIComponent(value);
}

function parseBaseUrl(baseUrl: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new StewardError('config_invalid', `the Composio base URL is not a URL: ${baseUrl}`, { field: 'baseUrl' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StewardError('config_invalid', `the Composio base URL must be http(s), not ${url.protocol}`, { field: 'baseUrl' });
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !LOOPBACK.has(url.hostname)) {
    throw new StewardError('config_invalid', `plain http would send the Composio API key in clear to ${url.hostname}; use https`, { field: 'baseUrl' });
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new StewardError('config_invalid', 'the Composio base URL must not carry credentials, a query or a fragment', { field: 'baseUrl' });
  }
  return url.href.replace(/\/+$/, '');
}
