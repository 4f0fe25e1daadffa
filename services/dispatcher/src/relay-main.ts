// The Kafka relay process (DISPATCH_TRANSPORT=kafka): publishes requested sends and scheduled retries from
// the log to the dispatch topic, checkpointed in PostgreSQL. Run exactly one.
import { createEventStore, eventStoreConfigSchema } from '@hatch/event-store';
import {
  ensureDispatchTopic,
  kafkaDispatchConfigSchema,
  postgresRelayCheckpoint,
  startDispatchRelay,
} from '@hatch/kafka-dispatch';
import { createLogger, loadConfig } from '@hatch/platform';
import pg from 'pg';
import { kafkaClient } from './kafka-transport.ts';
import { relayOpsConfigSchema, startRelayOps } from './relay-ops.ts';

const log = createLogger('relay');
const kafkaConfig = loadConfig(kafkaDispatchConfigSchema);
const storeConfig = loadConfig(eventStoreConfigSchema);
const pool = new pg.Pool({ connectionString: storeConfig.DATABASE_URL, max: 2 });
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));
const store = createEventStore(storeConfig);
let publishing = false;
const ops = await startRelayOps({ config: loadConfig(relayOpsConfigSchema), pool, publishing: () => publishing });
const kafka = kafkaClient(kafkaConfig);
await ensureDispatchTopic(kafka, {
  topic: kafkaConfig.KAFKA_TOPIC,
  partitions: kafkaConfig.KAFKA_PARTITIONS,
  replicationFactor: kafkaConfig.KAFKA_REPLICATION_FACTOR,
});
const relay = await startDispatchRelay({
  store,
  kafka,
  topic: kafkaConfig.KAFKA_TOPIC,
  checkpoint: postgresRelayCheckpoint(pool),
  logger: log,
});
publishing = true;
log.info({ topic: kafkaConfig.KAFKA_TOPIC }, 'relay publishing');

const shutdown = async () => {
  ops.close();
  await relay.stop();
  await store.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
await relay.done;
log.warn('relay stopped (another relay owns the checkpoint)');
await shutdown();
