import type { FastifyPluginAsync } from 'fastify';
import { authenticate, type AuthContext } from '../auth/authenticate.ts';
import { sharedPlugin } from './shared-plugin.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request runs as; set before any handler of a context that registers authPlugin. */
    auth: AuthContext;
  }
}

export interface AuthPluginOptions extends Record<string, unknown> {
  /** The HS256 secret tokens are verified with. */
  jwtSecret: string;
}

/**
 * First layer: every request of the context gets `request.auth` from its apikey /
 * Bearer token, or is answered 401 before anything else runs.
 */
export const authPlugin: FastifyPluginAsync<AuthPluginOptions> = sharedPlugin('steward-auth', (app, options) => {
  // Declared up front (with a placeholder) so every request object has the same shape.
  app.decorateRequest('auth', null as unknown as AuthContext);
  app.addHook('onRequest', async (request) => {
    const apikey = request.headers.apikey;
    request.auth = await authenticate({
      authorization: request.headers.authorization,
      apikey: Array.isArray(apikey) ? apikey[0] : apikey,
    }, options.jwtSecret);
  });
  return Promise.resolve();
});
