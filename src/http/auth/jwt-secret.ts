import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configuredJwtSecret, MIN_JWT_SECRET_LENGTH, type Config } from '../../config.ts';
import { StewardError } from '../../errors.ts';

/** The generated secret's file inside an embedded data directory. */
export const JWT_SECRET_FILE = 'steward-jwt-secret';

/**
 * The HS256 secret the API server verifies tokens with and `steward tokens mint` signs
 * them with: STEWARD_JWT_SECRET when set (required on PostgreSQL), else, embedded, a
 * random one generated on first use into the data directory (mode 0600), as
 * `supabase start` has one per project. Tokens then stay valid across restarts, and
 * `steward db reset` (which deletes the directory) invalidates them all.
 */
export function loadJwtSecret(config: Config): string {
  const configured = configuredJwtSecret(config);
  if (configured !== undefined) return configured;
  const path = join(config.dataDir, JWT_SECRET_FILE);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    // Written whole under a private name, then linked into place: link fails if the name
    // exists, so processes starting at once agree on the first secret, and none can read
    // a half-written file.
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
    try {
      linkSync(tmp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(tmp);
    }
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new StewardError('config_invalid', `${path} holds no usable JWT secret (fewer than ${MIN_JWT_SECRET_LENGTH} characters); delete it to have a new one generated, or set STEWARD_JWT_SECRET`, { field: 'STEWARD_JWT_SECRET' });
  }
  return secret;
}
