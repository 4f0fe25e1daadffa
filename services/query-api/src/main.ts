// The query API process: config, adapters, the server.
import { openEventStore } from '@hatch/event-store';
import { createLogger, failStartup, loadConfig } from '@hatch/platform';
import { createReadPool } from '@hatch/projections';
import { createQueryApi } from './app.ts';
import { queryApiConfigSchema } from './config.ts';
import { LiveStreams, liveStreamLimitsFrom } from './live-streams.ts';

const config = loadConfig(queryApiConfigSchema);
const logger = createLogger('query-api', { level: config.LOG_LEVEL });
const store = await openEventStore(config, { tuning: { readConnections: config.EVENT_STORE_READ_CONNECTIONS } }).catch(
  failStartup,
);
const pool = await createReadPool(config.DATABASE_URL, { maximumPoolSize: 10 });

const app = await createQueryApi(
  {
    pool,
    store,
    logger,
    // Every account: this server is for operators (OPERATOR_TOKEN, required in production).
    accountScope: () => null,
    readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    streams: new LiveStreams(liveStreamLimitsFrom(config)),
  },
  { details: { eventStore: config.EVENT_STORE }, operatorToken: config.OPERATOR_TOKEN ?? null },
);
await app.listen({ host: config.QUERY_API_HOST, port: config.QUERY_API_PORT });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'query API stopping');
  await app.close();
  await store.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
