// The projector process: config, adapters, the projector, and its /health /ready /metrics.
import { openEventStore, poolTimeouts, poolTimeoutsFromEnv } from '@hatch/event-store';
import { createHttpServer, registerOperations } from '@hatch/http';
import { createLogger, createMetricsRegistry, failStartup, loadConfig } from '@hatch/platform';
import { checkpointId, countOpenQuarantine, projectionsByName } from '@hatch/projections';
import pg from 'pg';
import { projectorConfigSchema } from './config.ts';
import { projectorMetrics } from './metrics.ts';
import { Projector } from './projector.ts';

const config = loadConfig(projectorConfigSchema);
const logger = createLogger('projector', { level: config.LOG_LEVEL });
const store = await openEventStore(config, { tuning: { readConnections: config.EVENT_STORE_READ_CONNECTIONS } }).catch(
  failStartup,
);
const projections = projectionsByName(config.PROJECTIONS.split(',').map((s) => s.trim()));
// One connection per projection (they apply a catching-up batch concurrently) and one for checkpoint reads.
const pool = new pg.Pool({
  connectionString: config.DATABASE_URL,
  max: projections.length + 1,
  ...poolTimeouts(poolTimeoutsFromEnv()),
});
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));

const registry = createMetricsRegistry('projector');
const metrics = projectorMetrics(
  registry,
  store,
  () => projector,
  async () => {
    const { rows } = await pool.query<{ position: string | null; n: number }>(
      'SELECT min(position) AS position, count(*)::int AS n FROM subscription_checkpoints WHERE subscription_id = ANY($1)',
      [projections.map((p) => checkpointId(p.name))],
    );
    return rows[0]?.n === projections.length ? rows[0].position : null;
  },
  () => countOpenQuarantine(pool),
);
const projector = new Projector({
  pool,
  databaseUrl: config.DATABASE_URL,
  store,
  projections,
  logger,
  batchSize: config.PROJECTOR_BATCH_SIZE,
  parallel: config.PROJECTOR_PARALLEL,
  lockRetryMs: config.PROJECTOR_LOCK_RETRY_MS,
  onBatch: metrics.onBatch,
  onQuarantine: metrics.onQuarantine,
});

const app = await createHttpServer({ logger });
registerOperations(app, {
  registry,
  ready: async () => {
    await pool.query('SELECT 1');
    return true;
  },
  details: { eventStore: config.EVENT_STORE },
});
await app.listen({ host: config.PROJECTOR_HOST, port: config.PROJECTOR_PORT });
projector.start();
logger.info({ port: config.PROJECTOR_PORT }, 'projector started');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'projector stopping');
  await projector.stop();
  await app.close();
  await store.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
