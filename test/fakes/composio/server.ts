// A local stand-in for Composio: a real HTTP server on loopback speaking its v3.1 and v3
// API (same paths under /api/v3.1 and /api/v3), with scripted faults. Free of test-runner
// imports, so `steward dev fake-composio` can run it as well as the tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId, type FakeAccount } from './accounts.ts';
import { handleAdmin, type FakeControl } from './admin.ts';
import { TOOLKITS, type CatalogVersion } from './catalog.ts';
import { corruptBody, type Fault, type FaultRule } from './faults.ts';
import { matchRoute, toolOf, type RouteContext } from './routing.ts';
import { FakeState, type ExecutionRecord, type RecordedRequest } from './state.ts';
import { CODES, errorReply, invalidApiKey, type Reply } from './wire.ts';

export interface FakeComposioOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1 (Composio's clients send a key over plain http only to loopback). */
  host?: string;
  /** The only key accepted in `x-api-key`; default `ak_fake_composio_key`. */
  apiKey?: string;
  /** What execute answers for an EXPIRED or REVOKED account: 410 (default) or 422. */
  expiredAccountStatus?: 410 | 422;
}

export interface FakeComposio extends FakeControl {
  /** `http://127.0.0.1:<port>`: pass it as the client's base URL. */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Every API request received since the last reset, in order (admin requests excluded). */
  readonly requests: readonly RecordedRequest[];
  /** Every tool run since the last reset (its side effect happened). */
  readonly executions: readonly ExecutionRecord[];
  /** An account as the fake holds it (deleted ones included), for assertions. */
  account(id: string): Readonly<FakeAccount> | undefined;
  expireAccount(id: string, reason?: string): void;
  revokeAccount(id: string, reason?: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startFakeComposio(options: FakeComposioOptions = {}): Promise<FakeComposio> {
  const apiKey = options.apiKey ?? 'ak_fake_composio_key';
  const state = new FakeState(options.expiredAccountStatus === undefined ? {} : { expiredAccountStatus: options.expiredAccountStatus });
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = '';

  // Cleared on close, so a slow fault never keeps the process alive.
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });

  const control: FakeControl = {
    inject: (rule: FaultRule) => state.faults.add(rule),
    removeFault: (id) => state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    reset: () => state.reset(),
    setCatalogVersion: (version: CatalogVersion) => {
      if (version !== 1 && version !== 2) throw new Error('catalog version must be 1 or 2');
      state.catalogVersion = version;
    },
    setSyntheticTools: (count) => state.setSyntheticTools(count),
    setAccountStatus: (id, status, reason = null) => {
      const account = state.accounts.get(id);
      if (!account) throw new Error(`no connected account ${id}`);
      account.status = status;
      account.statusReason = reason;
      account.isDisabled = status === 'INACTIVE';
      account.updatedAt = new Date().toISOString();
    },
    addConnectedAccount: ({ toolkit, userId, status = 'ACTIVE', id = newId('ca'), authConfigId }) => {
      if (!TOOLKITS.some((t) => t.slug === toolkit)) throw new Error(`unknown toolkit ${toolkit}`);
      const configId = authConfigId ?? `ac_demo_${toolkit}`;
      if (!state.authConfigs.has(configId)) throw new Error(`no auth config ${configId}`);
      const now = new Date().toISOString();
      state.accounts.set(id, {
        id, userId, toolkit, authConfigId: configId, status, statusReason: null, isDisabled: status === 'INACTIVE',
        createdAt: now, updatedAt: now, deleted: false, callbackUrl: null, statusBeforeDisable: status === 'INACTIVE' ? 'ACTIVE' : null,
      });
      return id;
    },
    setExpiredAccountStatus: (status) => {
      state.expiredAccountStatus = status;
    },
    completeConnection: (token) => {
      const account = state.liveAccount(state.links.get(token) ?? '');
      if (!account) return undefined;
      state.links.delete(token);
      account.status = 'ACTIVE';
      account.statusReason = null;
      account.isDisabled = false;
      account.updatedAt = new Date().toISOString();
      return { accountId: account.id, callbackUrl: account.callbackUrl };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const text = await readBody(req);
    const body = parseJson(text);
    if (url.pathname.startsWith('/_fake/')) {
      const reply = handleAdmin(req.method ?? 'GET', url.pathname, body, state, control);
      write(res, reply ?? { status: 404, body: { error: { message: `no admin route ${url.pathname}`, status: 404 } } });
      return;
    }

    const prefix = /^\/api\/(v3\.1|v3)(\/.*)?$/.exec(url.pathname);
    const apiVersion = prefix?.[1] === 'v3' ? 'v3' : 'v3.1';
    const path = prefix?.[2] ?? url.pathname;
    const match = prefix ? safeMatch(req.method ?? 'GET', path) : undefined;
    const key = req.headers['x-api-key'];
    const keyValid = key === apiKey && req.headers['x-org-api-key'] === undefined;
    const recorded: RecordedRequest = {
      seq: state.requests.length + 1, at: new Date(), method: req.method ?? 'GET', path, apiVersion,
      route: match?.name, tool: match ? toolOf(match) : undefined, query: queryRecord(url.searchParams),
      headers: headerRecord(req, keyValid), body: text === '' ? undefined : body ?? text, status: undefined, fault: undefined,
    };
    state.requests.push(recorded);
    const answer = (reply: Reply) => {
      recorded.status = reply.status;
      write(res, reply);
    };

    // Two kinds of key at once is a 401 as well (reference §1).
    if (!keyValid) return answer(invalidApiKey());
    if (!match) return answer(errorReply(404, `Cannot ${req.method} ${url.pathname}`, CODES.notFound, 'NotFound'));

    const context: RouteContext = {
      state, apiVersion, params: match.params, query: url.searchParams, body, baseUrl, toolError: undefined,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
    };
    const fault = state.faults.take(match.name, recorded.tool);
    if (!fault) return answer(match.handle(context));
    recorded.fault = fault.type;

    if (fault.type !== 'slow' && fault.delayMs !== undefined) await sleep(fault.delayMs);
    switch (fault.type) {
      case 'slow':
        await sleep(fault.delayMs ?? 1000);
        return answer(match.handle(context));
      case 'tool_error':
        context.toolError = fault.message ?? 'Upstream error (injected by the fake)';
        return answer(match.handle(context));
      case 'malformed': {
        const reply = match.handle(context);
        return answer(reply.status < 300 ? { ...reply, body: corruptBody(reply.body, fault.corrupt) } : reply);
      }
      case 'invalid_json': {
        match.handle(context);
        recorded.status = 200;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"items": [{"slug": "GMAIL_SEND_');
        return;
      }
      case 'hang':
        if (fault.applyEffect) match.handle(context);
        return; // never answered; close() drops the connection
      case 'reset':
        if (fault.applyEffect) match.handle(context);
        req.socket.destroy();
        return;
      default:
        if (fault.applyEffect) match.handle(context);
        return answer(faultReply(fault, recorded.tool));
    }
  }

  const server = createServer((req, res) => {
    res.on('error', () => undefined); // the client may be gone (timeouts are the point)
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) write(res, errorReply(500, `fake error: ${error instanceof Error ? error.message : String(error)}`, CODES.internal, 'InternalError'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  return {
    ...control,
    url: baseUrl,
    port: address.port,
    apiKey,
    get requests() {
      return state.requests;
    },
    get executions() {
      return state.executions;
    },
    account: (id) => state.accounts.get(id),
    expireAccount: (id, reason = 'The access token expired and could not be refreshed') => control.setAccountStatus(id, 'EXPIRED', reason),
    revokeAccount: (id, reason = 'The user revoked access at the provider') => control.setAccountStatus(id, 'REVOKED', reason),
    close: () => new Promise<void>((resolve, reject) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}

function safeMatch(method: string, path: string): ReturnType<typeof matchRoute> {
  try {
    return matchRoute(method, path);
  } catch {
    return undefined; // a malformed %-escape: no route
  }
}

/** The answer an HTTP-error fault gives, in the forms Composio and its proxies use. */
function faultReply(fault: Fault, tool: string | undefined): Reply {
  const status = fault.type === '5xx' ? fault.status ?? 503 : Number(fault.type);
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.retryAfterHttpDate !== undefined) headers['retry-after'] = fault.retryAfterHttpDate;
  if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  if (status === 429) {
    headers['retry-after'] ??= '60';
    Object.assign(headers, { 'x-ratelimit': '20000', 'x-ratelimit-remaining': '0', 'x-ratelimit-window-size': '600s' });
  }
  const message = fault.message ?? defaultMessage(status, tool, headers['retry-after']);
  const form = fault.body ?? (status === 429 ? 'flat' : 'envelope');
  if (form === 'html') {
    return { status, headers: { ...headers, 'content-type': 'text/html' }, body: `<html><head><title>${status}</title></head><body><h1>${status} ${message}</h1></body></html>` };
  }
  if (form === 'flat') return { status, headers, body: { message } };
  const [code, slug] = codeFor(status, tool);
  const reply = errorReply(status, message, fault.code ?? code, slug);
  return { ...reply, headers };
}

function defaultMessage(status: number, tool: string | undefined, retryAfter: string | undefined): string {
  switch (status) {
    case 400: return 'Bad request';
    case 401: return 'Invalid API key';
    case 403: return 'The API key is not allowed to perform this request';
    case 404: return tool ? `Tool ${tool} not found` : 'Not found';
    case 409: return 'The request conflicts with the current state of the resource';
    case 410: return 'Connected account is in EXPIRED state';
    case 422: return 'The request could not be processed';
    case 429: return `Rate limit exceeded. Please retry after ${retryAfter ?? '60'} seconds`;
    case 500: return 'Internal server error';
    case 502: return 'Bad gateway: the provider did not answer';
    case 503: return 'Service temporarily unavailable';
    default: return 'Gateway timeout';
  }
}

function codeFor(status: number, tool: string | undefined): [number, string] {
  switch (status) {
    case 401: return [CODES.invalidApiKey, 'Unauthorized'];
    case 403: return [CODES.forbidden, 'Forbidden'];
    case 404: return tool ? [CODES.toolNotFound, 'Tool_ToolNotFound'] : [CODES.notFound, 'NotFound'];
    case 409: return [CODES.conflict, 'Conflict'];
    case 410: return [CODES.accountExpired, 'ActionExecute_ConnectedAccountExpired'];
    case 429: return [CODES.rateLimited, 'RateLimited'];
    default: return status >= 500 ? [CODES.internal, 'InternalServerError'] : [CODES.badRequest, 'BadRequest'];
  }
}

function write(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  const isText = typeof reply.body === 'string';
  const payload = isText ? reply.body as string : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function queryRecord(query: URLSearchParams): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  for (const [key, value] of query) (record[key] ??= []).push(value);
  return record;
}

// The key itself is never kept: a recorded request may end up in a test's failure output.
function headerRecord(req: IncomingMessage, keyValid: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = name === 'x-api-key' || name === 'x-org-api-key' ? (keyValid ? '[valid]' : '[invalid]') : Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
