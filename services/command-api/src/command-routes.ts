// The command side's route groups and their scopes, visible in one place: client commands (sends, cancel,
// contacts: authenticated, rate-limited) and provider webhooks (signed). Mountable on any @hatch/http app,
// next to the query routes.
import type { HttpApp } from '@hatch/http';
import type { FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Counter } from 'prom-client';
import { type AccountDirectory, accountDirectory } from './account-directory.ts';
import { cancelRoutes } from './cancel-routes.ts';
import { clientAuthenticator } from './client-auth.ts';
import type { CommandDeps } from './command-deps.ts';
import { contactRoutes } from './contact-routes.ts';
import { durableLog } from './durable-append.ts';
import { inboundCommands } from './inbound-commands.ts';
import { clientRateLimiter, installWebhookRateLimit } from './rate-limit.ts';
import { sendRoutes } from './send-routes.ts';
import { sendGridWebhookRoutes } from './sendgrid-webhook-routes.ts';
import { installSessions, type Sessions, sessionRoutes } from './session.ts';
import { twilioWebhookRoutes } from './twilio-webhook-routes.ts';
import { webhookEndpointRoutes } from './webhook-endpoint-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { installWebhookSignatureCheck } from './webhook-signature-check.ts';

/**
 * zod reports all unknown fields as one issue on the object; split it into one entry per field
 * (`body.priority: unknown field`) and hand the error on to the app's problem+json handler.
 */
function nameUnknownFields(scope: FastifyInstance) {
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

/**
 * A command client's scope: who is calling (API key) and how often (token bucket per client). Any route
 * group registered inside a scope that has this installed answers 401/429 like the command routes.
 */
export function installClientScope(
  scope: FastifyInstance,
  config: Pick<CommandDeps['config'], 'apiKeys' | 'rateLimit' | 'production'>,
  directory: AccountDirectory,
  sessions?: Sessions,
) {
  // The deprecated API_KEYS keep their old meaning: once set, every request needs a key.
  const allowKeyless = !config.production && !config.apiKeys;
  const legacyKeys = config.production ? null : config.apiKeys;
  scope.addHook('onRequest', clientAuthenticator({ directory, allowKeyless, legacyKeys, sessions }));
  scope.addHook('onRequest', clientRateLimiter(config.rateLimit));
}

/**
 * `mountClientRoutes` registers more route groups inside the client scope (main.ts: the query routes), so
 * they answer only a caller with a key (or the local account in local mode) and know `request.accountId`.
 */
export function registerCommandRoutes(
  app: HttpApp,
  deps: CommandDeps,
  mountClientRoutes?: (scope: FastifyInstance) => Promise<void>,
) {
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
  const directory = deps.directory ?? accountDirectory({ store: log, now: () => deps.clock.now() });
  const options = { deps: { ...deps, directory }, log };
  const nowMs = () => deps.clock.now().getTime();
  const sessions = installSessions(
    app,
    directory,
    { ...deps.config.session, production: deps.config.production },
    nowMs,
  );
  installWebhookRateLimit(app, deps.config.webhookRateLimit);
  // Each group in its own encapsulated scope: hooks and the raw-body parser stay where they belong.
  app.register(async (signIn) => {
    nameUnknownFields(signIn);
    await signIn.register(sessionRoutes, { directory, sessions, ttlSeconds: deps.config.session.ttlSeconds, nowMs });
  });
  app.register(async (clients) => {
    installClientScope(clients, deps.config, directory, sessions);
    nameUnknownFields(clients);
    await clients.register(sendRoutes, options);
    await clients.register(cancelRoutes, options);
    await clients.register(contactRoutes, options);
    await clients.register(webhookEndpointRoutes, options);
    await mountClientRoutes?.(clients);
  });
  // One inbound path for every provider protocol; each protocol's scope checks its own signatures.
  const inbound = inboundCommands(options);
  app.register(async (providers) => {
    installWebhookSignatureCheck(providers, deps);
    nameUnknownFields(providers);
    await providers.register(webhookRoutes, { ...options, inbound });
  });
  app.register(async (twilio) => {
    await twilio.register(twilioWebhookRoutes, { ...options, inbound });
  });
  app.register(async (sendGrid) => {
    await sendGrid.register(sendGridWebhookRoutes, { ...options, inbound });
  });
  return log;
}
