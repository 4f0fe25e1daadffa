// command-api process: read config, build adapters, start; stop gracefully on SIGTERM/SIGINT.
import { localAccountId, localAccountName } from '@hatch/domain';
import { openEventStore } from '@hatch/event-store';
import { createLogger, failStartup, loadConfig } from '@hatch/platform';
import { createReadPool, LiveStreams, liveStreamLimitsFrom, registerQueryRoutes } from '@hatch/query-api';
import { registerWebInbox } from '@hatch/web-inbox';
import pg from 'pg';
import { accountDirectory } from './account-directory.ts';
import { createCommandApi } from './app.ts';
import { commandApiConfigFrom, commandApiConfigSchema } from './config.ts';

const env = loadConfig(commandApiConfigSchema);
const logger = createLogger('command-api');
const config = commandApiConfigFrom(env);

if (!config.webhookSecret)
  logger.warn('WEBHOOK_SECRET is not set: provider webhook signatures are NOT checked (set it to enforce them)');
if (config.webhookSecrets.development)
  logger.warn(
    'WEBHOOK_SECRETS_KEY is not set: webhook endpoint secrets are sealed with the fixed DEVELOPMENT key (local mode only)',
  );
if (config.production) logger.info('production mode: every command route needs an account API key');
else {
  logger.warn('local mode: requests without an API key act as the local account, which may send from any sender');
  if (config.apiKeys) logger.warn('API_KEYS is deprecated: issue account keys with bin/hatch');
}

const eventStore = await openEventStore(env, { tuning: { appendConnections: env.APPEND_CONNECTIONS } }).catch(
  failStartup,
);
// Clients get one base URL: the query routes (conversations, messages, live stream) are served here too,
// unless SERVE_QUERIES=false (then the query API runs alone on its own port).
// The open live streams (caps from STREAMS_*); `liveStreams.endWhere` ends streams from outside.
const liveStreams = new LiveStreams(liveStreamLimitsFrom(env));
const readPool =
  env.SERVE_QUERIES && env.DATABASE_URL ? await createReadPool(env.DATABASE_URL, { maximumPoolSize: 10 }) : null;
// The notifier's delivery records (webhook attempts, retries) live in PostgreSQL whatever the log adapter.
const webhookDeliveries = env.DATABASE_URL ? new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 }) : null;
webhookDeliveries?.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
const app = await createCommandApi(
  { eventStore, clock: { now: () => new Date() }, config, logger, webhookDeliveries },
  {
    details: { eventStore: env.EVENT_STORE },
    mountClientRoutes: async (scope) => {
      if (readPool)
        await registerQueryRoutes(scope, {
          pool: readPool,
          store: eventStore,
          logger,
          accountScope: (request) => request.accountId,
          streams: liveStreams,
        });
    },
    mount: async (server) => {
      if (env.SERVE_INBOX) {
        await registerWebInbox(server, {
          operations: {
            dispatcherUrl: env.DISPATCHER_URL,
            projectorUrl: env.PROJECTOR_URL,
            notifierUrl: env.NOTIFIER_URL,
          },
        });
      }
    },
  },
);

// Local mode: the account keyless requests act as exists before the first request. Idempotent: a restart,
// or another instance starting at the same moment, decides `already_exists` and appends nothing.
if (!config.production)
  await accountDirectory({ store: eventStore, now: () => new Date() })
    .ensureAccount(localAccountId, localAccountName)
    .catch(failStartup);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  const force = setTimeout(() => {
    logger.error('shutdown timed out; exiting');
    process.exit(1);
  }, env.SHUTDOWN_TIMEOUT_MS);
  force.unref();
  try {
    // Stop accepting and wait for in-flight requests. A keep-alive connection whose request finishes
    // after this point turns idle without being closed, so keep closing idle ones until done.
    const closing = app.close();
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    await closing.finally(() => clearInterval(reaper));
    await eventStore.close(); // flushes pending appends
    await readPool?.end();
    await webhookDeliveries?.end();
    logger.info('stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: env.API_PORT, host: env.API_HOST });
logger.info({ port: env.API_PORT }, 'command-api listening');
