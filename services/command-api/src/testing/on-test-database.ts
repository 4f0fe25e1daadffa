// The command API as the int specs build it: a fresh test database, the log on it, a SQL client to look at
// what was appended, and the app (ready, not listening: `inject`, or `listen` for real HTTP).
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { createCommandApi } from '../app.ts';
import type { CommandDeps } from '../command-deps.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from '../config.ts';

export interface CommandApiOnTestDatabase {
  db: TestDatabase;
  store: PostgresEventStore;
  sql: pg.Client;
  app: Awaited<ReturnType<typeof createCommandApi>>;
  /** Closes the app, the log and the client, then drops the database. */
  close(): Promise<void>;
}

export async function commandApiOnTestDatabase(options: {
  /** Names the (silent) logger. */
  name: string;
  config?: Partial<CommandApiConfig>;
  clock?: CommandDeps['clock'];
}): Promise<CommandApiOnTestDatabase> {
  const db = await createTestDatabase();
  const store = new PostgresEventStore({ connectionString: db.url });
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const app = await createCommandApi({
    eventStore: store,
    clock: options.clock ?? { now: () => new Date() },
    logger: createLogger(options.name, { level: 'silent' }),
    config: defaultCommandApiConfig(options.config ?? {}),
  });
  await app.ready();
  return {
    db,
    store,
    sql,
    app,
    async close() {
      await app.close();
      await store.close();
      await sql.end();
      await db.drop();
    },
  };
}
