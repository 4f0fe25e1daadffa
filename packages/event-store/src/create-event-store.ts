// Picks the event-log adapter from configuration, the same way in every process: `EVENT_STORE=postgres`
// (default, `DATABASE_URL`) or `EVENT_STORE=eventstoredb` (`EVENTSTORE_URL`, e.g. `esdb://localhost:2113?tls=false`).
// Consumer checkpoints and read tables stay in PostgreSQL with either adapter (they commit with the read model).
import { z } from 'zod';
import type { EventStore } from './event-store.ts';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store.ts';
import { poolTimeoutsFromEnv } from './postgres/pool-timeouts.ts';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store.ts';

export const missingDatabaseUrl = 'DATABASE_URL is not set — bin/start.sh starts an embedded PostgreSQL and sets it';

/** DATABASE_URL for a process that needs PostgreSQL whatever the adapter (read tables, checkpoints). */
// abort: the cross-field rule would report the same missing URL a second time.
export const databaseUrlSchema = z
  .string({ error: missingDatabaseUrl })
  .min(1, { message: missingDatabaseUrl, abort: true });

/** The event-store settings; services `.extend()` their schema with its shape and apply `checkEventStoreEnv`. */
export const eventStoreEnvSchema = z.object({
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  DATABASE_URL: z.string().min(1).optional(),
  EVENTSTORE_URL: z.string().min(1).optional(),
});
export type EventStoreConfig = z.infer<typeof eventStoreEnvSchema>;

/** The cross-field rule: the selected adapter's URL must be set. */
export function checkEventStoreEnv(config: EventStoreConfig, ctx: z.RefinementCtx) {
  if (config.EVENT_STORE === 'eventstoredb' && !config.EVENTSTORE_URL) {
    ctx.addIssue({
      code: 'custom',
      message: 'EVENT_STORE=eventstoredb needs EVENTSTORE_URL',
      path: ['EVENTSTORE_URL'],
    });
  }
  if (config.EVENT_STORE === 'postgres' && !config.DATABASE_URL) {
    ctx.addIssue({ code: 'custom', message: missingDatabaseUrl, path: ['DATABASE_URL'] });
  }
}

export const eventStoreConfigSchema = eventStoreEnvSchema.superRefine(checkEventStoreEnv);

/** Per-process tuning; the PostgreSQL adapter uses it, EventStoreDB's client manages its own connections. */
export type EventStoreTuning = Omit<PostgresEventStoreOptions, 'connectionString'>;

export function createEventStore(config: EventStoreConfig, tuning: EventStoreTuning = {}): EventStore {
  if (config.EVENT_STORE === 'eventstoredb') {
    if (!config.EVENTSTORE_URL) throw new TypeError('EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
    return new EventStoreDbEventStore({ connectionString: config.EVENTSTORE_URL });
  }
  if (!config.DATABASE_URL) throw new TypeError(missingDatabaseUrl);
  return new PostgresEventStore({ timeouts: poolTimeoutsFromEnv(), ...tuning, connectionString: config.DATABASE_URL });
}

/** The log did not answer the startup probe; the message names the setting to fix. */
export class EventStoreUnavailableError extends Error {
  override readonly name = 'EventStoreUnavailableError';
}

/** The URL without its password: it goes into error messages and logs. */
const withoutPassword = (url: string) => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
};

/**
 * Creates the configured store and probes it (headPosition) so a process fails at start-up, naming
 * the setting, instead of accepting work it cannot store. Closes the store when the probe fails.
 */
export async function openEventStore(
  config: EventStoreConfig,
  options: { tuning?: EventStoreTuning; probeTimeoutMs?: number } = {},
): Promise<EventStore> {
  const store = createEventStore(config, options.tuning);
  const timeoutMs = options.probeTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.headPosition(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return store;
  } catch (error) {
    // A client still dialling would hold close() up; the process is about to exit anyway.
    void store.close().catch(() => {});
    const setting = config.EVENT_STORE === 'eventstoredb' ? 'EVENTSTORE_URL' : 'DATABASE_URL';
    const url = withoutPassword(
      (config.EVENT_STORE === 'eventstoredb' ? config.EVENTSTORE_URL : config.DATABASE_URL) ?? '',
    );
    const reason = error instanceof Error ? error.message : String(error);
    throw new EventStoreUnavailableError(
      `event store unreachable: EVENT_STORE=${config.EVENT_STORE}, ${setting}=${url} (${reason})`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
