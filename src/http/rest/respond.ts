import type { FastifyReply } from 'fastify';
import { restErrors } from './errors.ts';
import { JSON_MEDIA_TYPE, OBJECT_MEDIA_TYPE, type ResponseShape } from './parse-headers.ts';

// Statuses and headers as PostgREST answers (src/PostgREST/Response.hs, RangeQuery.hs).

/** The row every statement of the REST layer returns. */
export interface ResultRow {
  total: number | string | null;
  page_total: number | string;
  body: string | null;
}

export function toCount(value: number | string | null | undefined): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

/** `first-last/total`, `*` for an empty page, `*` for an unknown total. */
export function contentRange(lower: number, upper: number, total: number | undefined): string {
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total ?? '*'}`;
}

/** A one-element JSON array's element: how a single object is cut out of json_agg's output. */
export function unwrapSingle(body: string): string {
  const text = body.trim();
  if (!text.startsWith('[') || !text.endsWith(']')) throw new Error('expected a JSON array');
  const inner = text.slice(1, -1).trim();
  return inner === '' ? 'null' : inner;
}

/**
 * A page of rows: 200, or 206 when a count shows the page is part of the result, or 416
 * when the offset is past the counted end; Content-Range either way. With `object`, the
 * page must be exactly one row (PGRST116, 406, otherwise).
 */
export function sendRows(reply: FastifyReply, row: ResultRow, options: { offset: number; shape: ResponseShape; extraHeaders?: Record<string, string> }): FastifyReply {
  const pageTotal = Number(row.page_total);
  const total = toCount(row.total);
  const lower = options.offset;
  const upper = lower + pageTotal - 1;
  if (total !== undefined && lower > total) {
    throw restErrors.invalidRange(`An offset of ${lower} was requested, but there are only ${total} rows.`, { 'Content-Range': contentRange(lower, upper, total) });
  }
  if (options.shape.object && pageTotal !== 1) throw restErrors.singularity(pageTotal);
  const status = total !== undefined && pageTotal < total ? 206 : 200;
  reply.code(status).headers({ 'Content-Range': contentRange(lower, upper, total), ...options.extraHeaders });
  return sendJson(reply, row.body ?? '[]', options.shape.object);
}

export function sendJson(reply: FastifyReply, body: string, object: boolean): FastifyReply {
  reply.header('Content-Type', object ? OBJECT_MEDIA_TYPE : JSON_MEDIA_TYPE);
  return reply.send(object ? unwrapSingle(body) : body);
}
