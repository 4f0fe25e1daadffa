export type { BatchedStreamReadOptions } from './batched-stream-reads.ts';
export { batchedStreamReads } from './batched-stream-reads.ts';
export type { EventStoreConfig, EventStoreTuning } from './create-event-store.ts';
export {
  checkEventStoreEnv,
  createEventStore,
  databaseUrlSchema,
  EventStoreUnavailableError,
  eventStoreConfigSchema,
  eventStoreEnvSchema,
  missingDatabaseUrl,
  openEventStore,
} from './create-event-store.ts';
export * from './event-store.ts';
export type { EventStoreDbEventStoreOptions } from './eventstoredb/eventstoredb-event-store.ts';
export { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store.ts';
export { formatEsdbPosition, parseEsdbPosition } from './eventstoredb/log-position.ts';
export type { InMemoryEventStoreOptions } from './memory/in-memory-event-store.ts';
export { InMemoryEventStore } from './memory/in-memory-event-store.ts';
export type { CheckpointedConsumer, CheckpointedConsumerOptions } from './postgres/checkpointed-consumer.ts';
export { startCheckpointedConsumer } from './postgres/checkpointed-consumer.ts';
export type { Queryable } from './postgres/checkpoints.ts';
export { loadCheckpoint, resetCheckpoint, StaleCheckpointError, storeCheckpoint } from './postgres/checkpoints.ts';
export { formatPosition, parsePosition } from './postgres/log-position.ts';
export type { PoolTimeouts, SnapshotGateStats } from './postgres/pool-timeouts.ts';
export { poolTimeouts, poolTimeoutsEnvSchema, poolTimeoutsFromEnv } from './postgres/pool-timeouts.ts';
export type { PostgresEventStoreOptions } from './postgres/postgres-event-store.ts';
export { PostgresEventStore } from './postgres/postgres-event-store.ts';
export type { QuarantinedEvent } from './postgres/quarantine.ts';
export { isPoisonError, quarantineEntry, recordQuarantine, splitOnPoison } from './postgres/quarantine.ts';
