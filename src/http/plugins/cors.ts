import type { FastifyPluginAsync } from 'fastify';
import { sharedPlugin } from './shared-plugin.ts';

/** What a browser may read of a response: the count and range supabase-js reads, among others. */
const EXPOSED = 'Content-Range, Content-Location, Location, Preference-Applied, Range-Unit';

/**
 * CORS as PostgREST and Supabase allow it: any origin (requests carry their credentials
 * in headers, not cookies, so no origin gains anything by being allowed), preflights
 * answered before authentication, and the headers supabase-js needs exposed.
 */
export const corsPlugin: FastifyPluginAsync = sharedPlugin('steward-cors', (app) => {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.headers.origin !== undefined) {
      reply.header('Access-Control-Allow-Origin', '*');
      reply.header('Access-Control-Expose-Headers', EXPOSED);
    }
    done(null, payload);
  });
  app.options('/*', async (request, reply) => {
    const requested = request.headers['access-control-request-headers'];
    return reply.code(204).headers({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, HEAD, POST, PATCH, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': typeof requested === 'string' ? requested : 'Authorization, apikey, Content-Type, Prefer, Range, Accept-Profile, Content-Profile, X-Client-Info',
      'Access-Control-Max-Age': '86400',
    }).send();
  });
  return Promise.resolve();
});
