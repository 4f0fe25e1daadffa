// The Kafka relay process (DISPATCH_TRANSPORT=kafka): publishes requested sends and scheduled retries from
// the log to the dispatch topic, checkpointed in PostgreSQL. Run exactly one.
import {
  checkEventStoreEnv,
  databaseUrlSchema,
  eventStoreEnvSchema,
  openEventStore,
  poolTimeouts,
  poolTimeoutsFromEnv,
  recordQuarantine,
} from '@hatch/event-store';
import {
  type DispatchRelay,
  ensureDispatchTopic,
  kafkaDispatchConfigSchema,
  postgresDeferredDispatches,
  postgresRelayCheckpoint,
  relayQuarantineName,
  startDispatchRelay,
} from '@hatch/kafka-dispatch';
import { createLogger, createMetricsRegistry, failStartup, loadConfig } from '@hatch/platform';
import pg from 'pg';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { kafkaClient } from './kafka-transport.ts';
import { startOpsServer } from './ops-server.ts';

const relayConfigSchema = z
  .object({
    ...eventStoreEnvSchema.shape,
    /** The relay's checkpoint lives in PostgreSQL whichever adapter holds the log. */
    DATABASE_URL: databaseUrlSchema,
    RELAY_HOST: z.string().default('127.0.0.1'),
    RELAY_PORT: z.coerce.number().int().min(0).max(65535).default(8092),
  })
  .superRefine(checkEventStoreEnv);

const log = createLogger('relay');
const kafkaConfig = loadConfig(kafkaDispatchConfigSchema);
const config = loadConfig(relayConfigSchema);
const store = await openEventStore(config).catch(failStartup);
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2, ...poolTimeouts(poolTimeoutsFromEnv()) });
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));

let relay: DispatchRelay | null = null;
const registry = createMetricsRegistry('relay');
const quarantined = new Counter({
  name: 'relay_quarantined_events_total',
  help: 'Events the relay could not turn into dispatch records, recorded in projection_quarantine and skipped',
  labelNames: ['projection'],
  registers: [registry],
});
// /health answers at once; /ready once the relay publishes (the topic exists and the producer is connected).
const ops = await startOpsServer({
  host: config.RELAY_HOST,
  port: config.RELAY_PORT,
  registry,
  health: () => ({ eventStore: config.EVENT_STORE }),
  ready: async () => ({
    ready: relay !== null,
    detail: { eventStore: config.EVENT_STORE, position: relay?.position ?? null, published: relay?.published ?? 0 },
  }),
});
log.info({ port: config.RELAY_PORT }, 'relay operations listening');

const kafka = kafkaClient(kafkaConfig);
await ensureDispatchTopic(kafka, {
  topic: kafkaConfig.KAFKA_TOPIC,
  partitions: kafkaConfig.KAFKA_PARTITIONS,
  replicationFactor: kafkaConfig.KAFKA_REPLICATION_FACTOR,
});
relay = await startDispatchRelay({
  store,
  kafka,
  topic: kafkaConfig.KAFKA_TOPIC,
  checkpoint: postgresRelayCheckpoint(pool),
  deferred: postgresDeferredDispatches(pool),
  quarantine: async (entries) => {
    await recordQuarantine(pool, entries);
    quarantined.inc({ projection: relayQuarantineName }, entries.length);
  },
  logger: log,
});
log.info({ topic: kafkaConfig.KAFKA_TOPIC }, 'relay publishing');

const shutdown = async () => {
  ops.close();
  await relay?.stop();
  await store.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
await relay.done;
log.warn('relay stopped (another relay owns the checkpoint)');
await shutdown();
