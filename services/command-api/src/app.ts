// The command API as an app: @hatch/http conventions, operations endpoints, Swagger UI at /docs and the
// command routes. main.ts and the tests build it the same way.
import fastifySwaggerUi from '@fastify/swagger-ui';
import { createHttpServer, type HttpApp, installOperatorGuard, registerOperations } from '@hatch/http';
import { createMetricsRegistry } from '@hatch/platform';
import type { FastifyInstance } from 'fastify';
import type { CommandDeps } from './command-deps.ts';
import { registerCommandRoutes } from './command-routes.ts';
import { webhooksDocument } from './webhook-endpoint-payloads.ts';

export interface CommandApiOptions {
  /** Mounts more routes on the same server, outside the client scope (main.ts: the web inbox's pages). */
  mount?: (app: HttpApp) => Promise<void>;
  /**
   * Mounts routes inside the client scope (main.ts: the query routes), so they need a key like the
   * commands (local mode: the local account) and know `request.accountId`.
   */
  mountClientRoutes?: (scope: FastifyInstance) => Promise<void>;
  /** Shown on /health and /ready (main.ts: which event-store adapter this process runs on). */
  details?: Record<string, unknown>;
}

export async function createCommandApi(deps: Omit<CommandDeps, 'registry'>, options: CommandApiOptions = {}) {
  const registry = createMetricsRegistry('command-api');
  const app = await createHttpServer({
    logger: deps.logger,
    bodyLimit: deps.config.bodyLimit,
    trustProxy: deps.config.trustProxy,
    openApi: {
      title: 'Hatch messaging API',
      version: '1.0.0',
      description:
        'Send SMS, MMS and email; receive provider webhooks (inbound messages and delivery receipts); get your own events as signed webhooks.',
      webhooks: webhooksDocument(),
    },
  });
  // API answers are data, never documents to render or frame (the inbox's pages set their own policy).
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith('/api/'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  });
  // /metrics and the inbox's operations view say how the service runs (volumes, providers, lag).
  installOperatorGuard(app, deps.config.operatorToken, { paths: ['/metrics', '/api/inbox/operations'] });
  const log = registerCommandRoutes(app, { ...deps, registry }, options.mountClientRoutes);
  registerOperations(app, { registry, ready: () => log.ready(), details: options.details });
  await options.mount?.(app);
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  return app;
}
