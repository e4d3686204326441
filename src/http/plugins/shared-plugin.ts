import type { FastifyPluginAsync } from 'fastify';

/**
 * Marks a plugin as not encapsulated, so the hooks and decorations it adds reach the
 * routes registered after it in the same context (what the `fastify-plugin` package
 * does, through the same two symbols fastify reads; one helper is not worth a package).
 */
export function sharedPlugin<Options extends Record<string, unknown>>(name: string, plugin: FastifyPluginAsync<Options>): FastifyPluginAsync<Options> {
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: name,
    [Symbol.for('plugin-meta')]: { name },
  });
}
