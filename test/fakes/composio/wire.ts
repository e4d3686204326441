// Composio's wire conventions, shared by the fake's routes: the error envelope, cursor
// pages, and query parameters given comma-joined, repeated or as bracket maps.

/** What a route answers; the server writes it (after any fault has had its say). */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Error codes. 1803 (connected account not found) is Composio's own; the others follow
 * its documented ranges (600s accounts, 1800s execute, 2400s tools, 10xxx generic) but
 * the numbers are the fake's.
 */
export const CODES = {
  badRequest: 10400,
  invalidApiKey: 10401,
  forbidden: 10403,
  notFound: 10404,
  conflict: 10409,
  rateLimited: 10429,
  internal: 10500,
  accountNotFound: 604,
  executeAccountNotFound: 1803,
  invalidArguments: 1806,
  accountExpired: 1820,
  accountNotActive: 1821,
  toolNotFound: 2401,
  toolVersionNotFound: 2402,
} as const;

let requestCounter = 0;

export function errorReply(status: number, message: string, code: number, slug: string, extra: { errors?: string[]; suggested_fix?: string } = {}): Reply {
  requestCounter += 1;
  return { status, body: { error: { message, code, slug, status, request_id: `req_fake_${requestCounter}`, ...extra } } };
}

export const badRequest = (message: string, errors?: string[]): Reply =>
  errorReply(400, message, CODES.badRequest, 'BadRequest', errors ? { errors } : {});

export const invalidApiKey = (): Reply =>
  errorReply(401, 'Invalid API key', CODES.invalidApiKey, 'Unauthorized', { suggested_fix: 'Pass a valid project API key in the x-api-key header' });

// ── query parameters ─────────────────────────────────────────────────────────────────

/** Every value of `name`, comma-joined or repeated (also `name[]`), blanks dropped. */
export function listParam(query: URLSearchParams, name: string): string[] {
  return [...query.getAll(name), ...query.getAll(`${name}[]`)].flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** `true`/`false`, or undefined when absent. */
export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  return value === null ? undefined : value === 'true';
}

/** `toolkit_versions=latest`, or `toolkit_versions[gmail]=20250909_00` pairs. */
export function versionsParam(query: URLSearchParams): 'latest' | Record<string, string> | undefined {
  if (query.get('toolkit_versions') === 'latest') return 'latest';
  const map: Record<string, string> = {};
  for (const [key, value] of query) {
    const match = /^toolkit_versions\[([^\]]+)\]$/.exec(key);
    if (match) map[match[1]!.toLowerCase()] = value;
  }
  return Object.keys(map).length > 0 ? map : undefined;
}

// ── pages ────────────────────────────────────────────────────────────────────────────

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/** One page of `items` for `limit`/`cursor`, shaped as every Composio list; or a 400. */
export function page<T>(items: T[], query: URLSearchParams): Reply {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  const cursor = query.get('cursor');
  const offset = cursor === null || cursor === '' ? 0 : decodeCursor(cursor);
  if (offset === undefined) return badRequest('Invalid cursor');
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? encodeCursor(offset + limit) : null;
  return {
    status: 200,
    body: {
      items: slice,
      next_cursor: next,
      total_pages: Math.max(1, Math.ceil(items.length / limit)),
      current_page: Math.floor(offset / limit) + 1,
      total_items: items.length,
    },
  };
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    return typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 ? parsed.o : undefined;
  } catch {
    return undefined;
  }
}
