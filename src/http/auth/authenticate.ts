import { errors, jwtVerify } from 'jose';
import { tenantClaimsSchema } from '../../db/tenant-context.ts';
import { ApiError } from '../api-error.ts';
import { REQUEST_ROLES, roleOfOpaqueKey, signingKey, type RequestRoleName } from './tokens.ts';

/** Who a request runs as: the database role and the claims PostgREST would set. */
export interface AuthContext {
  readonly role: RequestRoleName;
  /** The verified token's claims (`{"role":"anon"}` without a token). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** PostgREST's clock skew allowance for exp, nbf and iat. */
const CLOCK_SKEW_SECONDS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RequestCredentials {
  authorization?: string | undefined;
  apikey?: string | undefined;
}

/**
 * The request's role and claims, from its headers as supabase-js sends them (`apikey`
 * and `Authorization: Bearer`). A Bearer JWT wins; an opaque `sb_…` Bearer defers to the
 * apikey, as Supabase's gateway does; no credential at all is anon, as in PostgREST.
 * Every refusal is a 401 with PostgREST's code and WWW-Authenticate header.
 */
export async function authenticate(credentials: RequestCredentials, secret: string): Promise<AuthContext> {
  const token = credentialOf(credentials);
  if (token === undefined) return { role: 'anon', claims: { role: 'anon' } };
  if (token.startsWith('sb_')) {
    const role = roleOfOpaqueKey(secret, token);
    if (role === undefined) throw jwtError('PGRST301', 'Invalid API key', { hint: 'Double check your Steward anon or service_role API key.' });
    return { role, claims: { role } };
  }
  return contextOf(await verifyJwt(token, secret));
}

function credentialOf({ authorization, apikey }: RequestCredentials): string | undefined {
  const bearer = authorization === undefined ? undefined : /^bearer(?:\s+(.*))?$/is.exec(authorization.trim());
  if (bearer) {
    const token = (bearer[1] ?? '').trim();
    if (!token.startsWith('sb_') || apikey === undefined) return token;
  }
  // Another scheme (Basic…) is not ours to judge: PostgREST ignores it too.
  return apikey?.trim();
}

async function verifyJwt(token: string, secret: string): Promise<Record<string, unknown>> {
  if (token === '') throw jwtError('PGRST301', 'Empty JWT is sent in Authorization header');
  const parts = token.split('.').length;
  if (parts !== 3) throw jwtError('PGRST301', `Expected 3 parts in JWT; got ${parts}`);
  let payload: Record<string, unknown>;
  try {
    // algorithms pins HS256: `alg: none` and every asymmetric algorithm are refused
    // before any signature is looked at.
    ({ payload } = await jwtVerify(token, signingKey(secret), { algorithms: ['HS256'], clockTolerance: CLOCK_SKEW_SECONDS }));
  } catch (error) {
    throw fromJoseError(error);
  }
  const iat = payload.iat;
  if (typeof iat === 'number' && iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) throw jwtError('PGRST303', 'JWT issued at future');
  return payload;
}

function fromJoseError(error: unknown): ApiError {
  if (error instanceof errors.JWTExpired) return jwtError('PGRST303', 'JWT expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'invalid') return jwtError('PGRST303', `The JWT '${error.claim}' claim must be a number`);
    if (error.claim === 'nbf') return jwtError('PGRST303', 'JWT not yet valid');
    return jwtError('PGRST303', 'JWT claims validation failed');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return jwtError('PGRST301', 'Wrong or unsupported encoding algorithm', { details: 'only HS256 tokens are accepted' });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return jwtError('PGRST301', 'JWT cryptographic operation failed');
  if (error instanceof errors.JWTInvalid) return jwtError('PGRST303', 'Parsing claims failed');
  return jwtError('PGRST301', "JWT couldn't be decoded");
}

/**
 * The role claim picks the database role, and only the three API roles may be picked:
 * Steward connects as the schema's owner, so `role: postgres` would otherwise be honoured.
 * A token naming a tenant may not be service_role, which would silently drop the tenant
 * scoping its holder relies on; an authenticated token must name its tenant.
 */
function contextOf(payload: Record<string, unknown>): AuthContext {
  const claimed = payload.role ?? 'anon';
  if (typeof claimed !== 'string' || !(REQUEST_ROLES as readonly string[]).includes(claimed)) {
    throw jwtError('42501', `permission denied to set role ${JSON.stringify(typeof claimed === 'string' ? claimed : JSON.stringify(claimed))}`, {
      details: `The JWT 'role' claim must be one of: ${REQUEST_ROLES.join(', ')}`,
      invalidToken: false,
    });
  }
  const role = claimed as RequestRoleName;
  if (role === 'service_role') {
    if (payload.tenant_id !== undefined) {
      throw jwtError('42501', 'permission denied to set role "service_role"', {
        details: "A token that names a tenant (tenant_id) cannot use the service_role, which bypasses row level security",
        invalidToken: false,
      });
    }
    return { role, claims: { ...payload, role } };
  }
  const parsed = tenantClaimsSchema.safeParse(payload);
  if (!parsed.success) {
    const claim = String(parsed.error.issues[0]?.path[0] ?? 'claims');
    throw jwtError('PGRST303', `The JWT '${claim}' claim is malformed`, { details: parsed.error.issues[0]?.message ?? null });
  }
  if (role === 'authenticated' && (typeof payload.tenant_id !== 'string' || !UUID.test(payload.tenant_id))) {
    throw jwtError('PGRST303', "The JWT 'tenant_id' claim must be a tenant's uuid", { details: 'authenticated tokens are scoped to one tenant' });
  }
  return { role, claims: { ...payload, role } };
}

function jwtError(code: string, message: string, options: { details?: string | null; hint?: string; invalidToken?: boolean } = {}): ApiError {
  const header = options.invalidToken === false ? 'Bearer' : `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`;
  return new ApiError(401, code, message, { details: options.details ?? null, hint: options.hint ?? null, headers: { 'WWW-Authenticate': header } });
}
