import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';

// Tokens as `supabase start` issues them: HS256 JWTs signed with the project's secret,
// whose `role` claim picks the database role. Steward adds the tenant (`tenant_id`) and
// the scopes (`scopes`) its RLS policies read.

export const REQUEST_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type RequestRoleName = (typeof REQUEST_ROLES)[number];

/** Issuer of every token Steward mints. */
export const TOKEN_ISSUER = 'steward';

/** The HS256 key: the secret's UTF-8 bytes, as PostgREST and GoTrue use it. */
export function signingKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export interface MintOptions {
  role: RequestRoleName;
  tenantId?: string;
  sub?: string;
  scopes?: readonly string[];
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** Issue time, seconds since the epoch; default now. */
  issuedAt?: number;
}

export async function mintToken(secret: string, options: MintOptions): Promise<string> {
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    role: options.role,
    ...(options.tenantId !== undefined ? { tenant_id: options.tenantId } : {}),
    ...(options.sub !== undefined ? { sub: options.sub } : {}),
    ...(options.scopes !== undefined ? { scopes: [...options.scopes] } : {}),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSeconds)
    .sign(signingKey(secret));
}

/**
 * The expiry of the two project keys: fixed, so the keys are the same on every start
 * (a client configured with them keeps working) and still expire, which Realtime
 * requires. 2050-01-01T00:00:00Z.
 */
export const PROJECT_KEY_EXPIRY = 2_524_608_000;

/** The keys `steward start` prints, like `supabase start`'s. */
export interface ProjectKeys {
  /** JWT `{iss, role: anon, exp}`: sees nothing of Steward's data (anon has no grants). */
  anonKey: string;
  /** JWT `{iss, role: service_role, exp}`: bypasses row level security. Keep it server-side. */
  serviceRoleKey: string;
  /** Opaque key mapped to anon (Supabase's new `sb_publishable_…` keys). */
  publishableKey: string;
  /** Opaque key mapped to service_role (Supabase's new `sb_secret_…` keys). */
  secretKey: string;
}

export async function projectKeys(secret: string): Promise<ProjectKeys> {
  const key = signingKey(secret);
  const projectKey = (role: RequestRoleName): Promise<string> =>
    new SignJWT({ iss: TOKEN_ISSUER, role, exp: PROJECT_KEY_EXPIRY }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
  return {
    anonKey: await projectKey('anon'),
    serviceRoleKey: await projectKey('service_role'),
    publishableKey: `sb_publishable_${opaqueKey(secret, 'anon')}`,
    secretKey: `sb_secret_${opaqueKey(secret, 'service_role')}`,
  };
}

// Derived from the secret rather than stored: the Supabase CLI's fixed opaque keys are
// public, and a public service_role key would be no key at all.
function opaqueKey(secret: string, role: RequestRoleName): string {
  return createHmac('sha256', secret).update(`steward opaque api key: ${role}`).digest('base64url').slice(0, 32);
}

/** The role an opaque `sb_…` key stands for, or undefined when it is not one of this project's. */
export function roleOfOpaqueKey(secret: string, key: string): RequestRoleName | undefined {
  const candidates: [string, RequestRoleName][] = [
    [`sb_publishable_${opaqueKey(secret, 'anon')}`, 'anon'],
    [`sb_secret_${opaqueKey(secret, 'service_role')}`, 'service_role'],
  ];
  const given = Buffer.from(key);
  for (const [expected, role] of candidates) {
    const want = Buffer.from(expected);
    if (given.length === want.length && timingSafeEqual(given, want)) return role;
  }
  return undefined;
}
