import { z } from 'zod';
import { StewardError } from '../errors.ts';

// Shared field rules for service inputs. Every service validates at its boundary with
// zod and reports the first problem as `invalid_input` naming the field.

export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');

/** A JSON object whose serialised form is at most `maxBytes` bytes. */
export function jsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (size > maxBytes) ctx.addIssue({ code: 'custom', message: `is ${size} bytes of JSON; the limit is ${maxBytes}` });
  });
}

export const KIB = 1024;
export const riskTier = z.enum(['low', 'medium', 'high']);
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
