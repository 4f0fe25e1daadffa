export * from './event-store.ts';
export type { Queryable } from './postgres/checkpoints.ts';
export { loadCheckpoint, resetCheckpoint, StaleCheckpointError, storeCheckpoint } from './postgres/checkpoints.ts';
export { formatPosition, parsePosition } from './postgres/log-position.ts';
export type { PostgresEventStoreOptions } from './postgres/postgres-event-store.ts';
export { PostgresEventStore } from './postgres/postgres-event-store.ts';
