// The query API process: config, adapters, the server.
import { PostgresEventStore } from '@hatch/event-store';
import { localDatabase } from '@hatch/infra';
import { createLogger, loadConfig } from '@hatch/platform';
import { createReadPool } from '@hatch/projections';
import { createQueryApi } from './app.ts';
import { queryApiConfigSchema } from './config.ts';

const config = loadConfig(queryApiConfigSchema);
const logger = createLogger('query-api', { level: config.LOG_LEVEL });
const database = config.DATABASE_URL ? { url: config.DATABASE_URL, stop: async () => {} } : await localDatabase();
const pool = await createReadPool(database.url, { maximumPoolSize: 10 });
const store = new PostgresEventStore({ connectionString: database.url, readConnections: 4 });

const app = await createQueryApi({
  pool,
  store,
  logger,
  readYourWritesTimeoutMs: config.READ_YOUR_WRITES_TIMEOUT_MS,
  heartbeatMs: config.SSE_HEARTBEAT_MS,
});
await app.listen({ host: '0.0.0.0', port: config.QUERY_API_PORT });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'query API stopping');
  await app.close();
  await store.close();
  await pool.end();
  await database.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
