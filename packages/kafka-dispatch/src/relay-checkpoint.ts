// Where the relay remembers how far it has published. In PostgreSQL (subscription_checkpoints) with
// either event-log adapter; compare-and-set, so a second relay that lost ownership cannot move it.
import { type LogPosition, loadCheckpoint, type Queryable, storeCheckpoint } from '@hatch/event-store';

export interface RelayCheckpoint {
  load(): Promise<LogPosition | null>;
  /** Throws StaleCheckpointError when another relay moved it since `previous`. */
  store(position: LogPosition, previous: LogPosition | null): Promise<void>;
}

export const defaultRelayId = 'kafka-dispatch-relay';

export const postgresRelayCheckpoint = (db: Queryable, relayId = defaultRelayId): RelayCheckpoint => ({
  load: () => loadCheckpoint(db, relayId),
  store: (position, previous) => storeCheckpoint(db, relayId, position, previous),
});
