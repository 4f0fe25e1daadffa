// The command side's routes as one fastify plugin: sends (authenticated, rate-limited, idempotent) and
// provider webhooks (signed). Mountable on any @hatch/http app, next to the query routes.
import type { HttpApp } from '@hatch/http';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import { registerCancelRoute } from './cancel-routes.ts';
import type { CommandDeps } from './command-deps.ts';
import { registerContactRoutes } from './contact-routes.ts';
import { durableLog } from './durable-append.ts';
import { registerSendRoutes } from './send-routes.ts';
import { registerWebhookRoutes } from './webhook-routes.ts';

/**
 * zod reports all unknown fields as one issue on the object; split it into one entry per field
 * (`body.priority: unknown field`) and hand the error on to the app's problem+json handler.
 */
function nameUnknownFields(scope: HttpApp) {
  scope.setErrorHandler((error) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      error.validation = error.validation.flatMap((v) => {
        const keys = (v.params as { keys?: unknown }).keys;
        if (v.keyword !== 'unrecognized_keys' || !Array.isArray(keys)) return [v];
        const base = v.instancePath === '/' ? '' : v.instancePath;
        return keys.map((key) => ({ ...v, instancePath: `${base}/${String(key)}`, message: 'unknown field' }));
      });
    }
    throw error;
  });
}

export function registerCommandRoutes(app: HttpApp, deps: CommandDeps) {
  const log = durableLog(deps.eventStore, deps.config.appendTimeoutMs);
  if (deps.registry) {
    const appends = new Counter({
      name: 'hatch_command_appends_total',
      help: 'Events the command API appended to the log, by type and outcome (appended | duplicate | error)',
      labelNames: ['type', 'outcome'] as const,
      registers: [deps.registry],
    });
    const append = log.append;
    log.append = async (streamId, events, expected) => {
      const type = events[0]?.type ?? 'unknown';
      try {
        const result = await append(streamId, events, expected);
        appends.inc({ type, outcome: result.duplicate ? 'duplicate' : 'appended' });
        return result;
      } catch (error) {
        appends.inc({ type, outcome: 'error' });
        throw error;
      }
    };
  }
  // Each concern in its own encapsulated scope: hooks and the raw-body parser stay where they belong.
  app.register(async (scope) => {
    nameUnknownFields(scope as unknown as HttpApp);
    registerSendRoutes(scope as unknown as HttpApp, deps, log);
    registerCancelRoute(scope as unknown as HttpApp, deps, log);
    registerContactRoutes(scope as unknown as HttpApp, deps, log);
  });
  app.register(async (scope) => {
    nameUnknownFields(scope as unknown as HttpApp);
    registerWebhookRoutes(scope as unknown as HttpApp, deps, log);
  });
  return log;
}
