import { EXPOSED_SCHEMA } from './catalog.ts';
import { restErrors } from './errors.ts';

// The request headers PostgREST reads: Prefer, Accept, Range, Accept-/Content-Profile.

export interface Preferences {
  readonly return?: 'minimal' | 'representation' | 'headers-only';
  /** planned and estimated are answered with the exact count. */
  readonly count?: 'exact' | 'planned' | 'estimated';
  readonly resolution?: 'merge-duplicates' | 'ignore-duplicates';
  readonly missing?: 'default' | 'null';
  /** `tx=rollback`: do everything, answer as usual, and roll the transaction back (a dry run). */
  readonly tx?: 'commit' | 'rollback';
}

const PREFERENCES: Readonly<Record<string, readonly string[]>> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  tx: ['commit', 'rollback'],
};

/** `Prefer: return=representation, count=exact` (several headers or one list); unknown ones are ignored, as PostgREST's lenient handling does. */
export function parsePrefer(header: string | readonly string[] | undefined): Preferences {
  const prefs: Record<string, string> = {};
  const values = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  for (const part of values.flatMap((v) => v.split(','))) {
    const [key, value] = part.trim().split('=').map((s) => s.trim());
    if (key && value && PREFERENCES[key]?.includes(value) && prefs[key] === undefined) prefs[key] = value;
  }
  return prefs;
}

/** The Preference-Applied header value for what was honoured. */
export function appliedPreferences(prefs: Preferences, applied: readonly (keyof Preferences)[]): string | undefined {
  const parts = applied.filter((k) => prefs[k] !== undefined).map((k) => `${k}=${prefs[k]}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export interface ResponseShape {
  /** `application/vnd.pgrst.object+json`: exactly one row, as an object (single()). */
  readonly object: boolean;
  /** `;nulls=stripped`: null-valued keys are left out. */
  readonly stripNulls: boolean;
}

/** Picks the response media type from Accept; none PostgREST's JSON answers can serve is a 406. */
export function negotiate(accept: string | undefined): ResponseShape {
  if (accept === undefined || accept.trim() === '') return { object: false, stripNulls: false };
  for (const entry of accept.split(',')) {
    const [type = '', ...params] = entry.split(';').map((s) => s.trim().toLowerCase());
    const stripNulls = params.includes('nulls=stripped');
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return { object: true, stripNulls };
    if (type === 'application/json' || type === 'application/vnd.pgrst.array+json' || type === 'application/*' || type === '*/*') {
      return { object: false, stripNulls };
    }
  }
  throw restErrors.mediaType(accept);
}

export const OBJECT_MEDIA_TYPE = 'application/vnd.pgrst.object+json; charset=utf-8';
export const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';

/** `Range: 0-9` (with `Range-Unit: items`) as an offset and a limit. Malformed ranges are ignored, as in PostgREST. */
export function parseRange(header: string | undefined): { offset: number; limit: number | undefined } | undefined {
  const m = header === undefined ? null : /^(\d{1,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  if (m[2] === '') return { offset: from, limit: undefined };
  const to = Number(m[2]);
  if (to < from) return undefined;
  return { offset: from, limit: to - from + 1 };
}

/** supabase-js names the schema in Accept-Profile (reads) or Content-Profile (writes); only `public` is exposed. */
export function checkProfile(profile: string | undefined): void {
  if (profile !== undefined && profile !== EXPOSED_SCHEMA) throw restErrors.unacceptableSchema(profile);
}
