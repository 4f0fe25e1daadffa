// Picks the event-log adapter from configuration: `EVENT_STORE=postgres` (default, `DATABASE_URL`)
// or `EVENT_STORE=eventstoredb` (`EVENTSTORE_URL`, e.g. `esdb://localhost:2113?tls=false`).
// Consumer checkpoints stay in PostgreSQL with either adapter (they commit with the read model).
import { z } from 'zod';
import type { EventStore } from './event-store.ts';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store.ts';
import { PostgresEventStore } from './postgres/postgres-event-store.ts';

export const eventStoreConfigSchema = z
  .object({
    EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
    DATABASE_URL: z.string().min(1).optional(),
    EVENTSTORE_URL: z.string().min(1).optional(),
  })
  .refine((c) => c.EVENT_STORE !== 'eventstoredb' || c.EVENTSTORE_URL, {
    message: 'EVENT_STORE=eventstoredb needs EVENTSTORE_URL',
    path: ['EVENTSTORE_URL'],
  })
  .refine((c) => c.EVENT_STORE !== 'postgres' || c.DATABASE_URL, {
    message: 'EVENT_STORE=postgres needs DATABASE_URL',
    path: ['DATABASE_URL'],
  });
export type EventStoreConfig = z.infer<typeof eventStoreConfigSchema>;

export function createEventStore(config: EventStoreConfig): EventStore {
  if (config.EVENT_STORE === 'eventstoredb') {
    return new EventStoreDbEventStore({ connectionString: config.EVENTSTORE_URL as string });
  }
  return new PostgresEventStore({ connectionString: config.DATABASE_URL as string });
}
