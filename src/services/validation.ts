import { z } from 'zod';
import { StewardError } from '../errors.ts';

// Shared field rules for service inputs. Every service validates at its boundary with
// zod and reports the first problem as `invalid_input` naming the field.

export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');

/**
 * Scans JSON text as PostgreSQL will store it: jsonb's text form (what the tables' size
 * CHECKs measure) is JSON.stringify's plus a space after every `:` and `,` outside
 * strings; and jsonb cannot hold U+0000 at all.
 */
function scanJson(json: string): { jsonbBytes: number; hasNul: boolean } {
  let separators = 0;
  let hasNul = false;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') {
        hasNul ||= json.startsWith('u0000', i + 1);
        i++; // skip the escaped character
      } else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ':' || c === ',') separators++;
  }
  return { jsonbBytes: Buffer.byteLength(json, 'utf8') + separators, hasNul };
}

/** A JSON object that PostgreSQL can store as jsonb within `maxBytes` of text. */
export function jsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const { jsonbBytes, hasNul } = scanJson(JSON.stringify(value));
    if (hasNul) ctx.addIssue({ code: 'custom', message: 'must not contain the character U+0000 (PostgreSQL cannot store it)' });
    if (jsonbBytes > maxBytes) ctx.addIssue({ code: 'custom', message: `is ${jsonbBytes} bytes as stored; the limit is ${maxBytes}` });
  });
}

export const KIB = 1024;
export const riskTier = z.enum(['low', 'medium', 'high']);
export type RiskTier = z.infer<typeof riskTier>;

/** A tool slug such as GMAIL__drafts.create: one non-blank token without whitespace. */
export const toolSlug = z.string().trim().min(1).max(200).regex(/^\S+$/, 'must not contain whitespace');

/** A Date, or an ISO 8601 timestamp with an explicit offset (no guessing a time zone). */
export const timestamp = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => new Date(v));
export const limit = z.number().int().min(1).max(1000).default(100);

/** Parses `input`; a scalar input is reported under `field` (objects use their paths). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, field = 'input'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  field = path ?? field;
  const message = issue?.message ?? 'is invalid';
  throw new StewardError('invalid_input', `${field}: ${message}`, { field, details: { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } });
}

export function notFound(what: string, field: string, value: unknown): StewardError {
  return new StewardError('not_found', `${what} ${String(value)} not found`, { field });
}
