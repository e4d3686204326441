// One HTTP call to Composio: send, enforce the deadline, classify the failure, validate
// the answer. Every ComposioError the client throws is made here.
import type { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { ComposioError, kindOfStatus, redact, type ComposioErrorDetails } from './errors.ts';
import { buildQueryString, type QueryValue } from './query-string.ts';
import { parseRetryAfter } from './retry-after.ts';
import { errorBodySchema } from './schemas.ts';
import type { CallOptions } from './types.ts';

export interface Endpoint {
  /** Where to send, up to and including the version: `https://backend.composio.dev/api/v3.1`. */
  apiUrl: string;
  apiKey: string;
  timeoutMs: number;
}

export interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path under the version, its segments already encoded: `/tools/GMAIL_SEND_EMAIL`. */
  path: string;
  query?: Readonly<Record<string, QueryValue>>;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  schema: z.ZodType<T>;
}

// A provider message can be a whole HTML page or a stack trace; people need the start.
const MAX_MESSAGE = 500;

export async function sendRequest<T>(endpoint: Endpoint, spec: RequestSpec<T>, call: CallOptions = {}): Promise<T> {
  const operation = `${spec.method} ${spec.path}`;
  if (call.signal?.aborted) throw aborted(operation, call.signal);

  const timeoutMs = call.timeoutMs ?? endpoint.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new StewardError('invalid_input', `a Composio call's timeout must be a positive integer of milliseconds, not ${timeoutMs}`, { field: 'timeoutMs' });
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json', ...spec.headers, 'x-api-key': endpoint.apiKey };
  if (spec.body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  let text: string;
  try {
    response = await fetch(`${endpoint.apiUrl}${spec.path}${buildQueryString(spec.query ?? {})}`, {
      method: spec.method,
      headers,
      body: spec.body === undefined ? null : JSON.stringify(spec.body),
      signal,
      redirect: 'error', // a redirect would resend the key to wherever it points
    });
    // Inside the try: the deadline covers a body that trickles in, not just the headers.
    text = await response.text();
  } catch (error) {
    if (timeout.aborted) {
      throw new ComposioError('retryable', `Composio ${operation}: no answer within ${timeoutMs} ms`, { operation, failure: 'timeout', cause: error });
    }
    if (call.signal?.aborted) throw aborted(operation, call.signal);
    const reason = redact(describeNetworkError(error), endpoint.apiKey);
    throw new ComposioError('retryable', `Composio ${operation}: ${reason}`, { operation, failure: 'network', cause: error });
  }

  if (!response.ok) throw httpError(operation, response, text, endpoint.apiKey);
  return parseBody(operation, text, spec.schema);
}

function aborted(operation: string, signal: AbortSignal): ComposioError {
  return new ComposioError('retryable', `Composio ${operation}: aborted by the caller`, { operation, failure: 'aborted', cause: signal.reason });
}

// fetch wraps socket errors as `TypeError: fetch failed` with the useful part in `cause`.
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
  }
  return error.message;
}

function httpError(operation: string, response: Response, text: string, apiKey: string): ComposioError {
  const status = response.status;
  const details: ComposioErrorDetails = { operation, failure: 'http', status };
  const retryAfterMs = parseRetryAfter(response.headers);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;

  const body = errorBodySchema.safeParse(tryJson(text));
  if (body.success) {
    const error = body.data;
    details.providerMessage = clip(redact(error.message, apiKey));
    if (error.code !== undefined) details.code = error.code;
    if (error.slug !== undefined) details.slug = error.slug;
    if (error.request_id !== undefined) details.requestId = error.request_id;
    if (error.errors !== undefined) details.errors = error.errors.map((e) => clip(redact(e, apiKey)));
  }

  const hint = response.headers.get('x-should-retry');
  const kind = kindOfStatus(status, hint === 'true' ? true : hint === 'false' ? false : undefined);
  const what = details.providerMessage ?? (response.statusText || 'no error message');
  const code = details.code === undefined ? '' : ` (code ${details.code})`;
  return new ComposioError(kind, `Composio ${operation}: HTTP ${status} ${what}${code}`, details);
}

function parseBody<T>(operation: string, text: string, schema: z.ZodType<T>): T {
  const json = tryJson(text);
  if (json === undefined) {
    throw new ComposioError('permanent', `Composio ${operation}: the response is not JSON`, { operation, failure: 'invalid_response', path: '' });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  throw new ComposioError('permanent', `Composio ${operation}: the response does not match the API at ${path === '' ? '(root)' : path}: ${issue.message}`, {
    operation, failure: 'invalid_response', path, cause: parsed.error,
  });
}

function tryJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function clip(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}
