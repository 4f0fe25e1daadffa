import { freePort } from '@hatch/infra';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkEventStoreEnv,
  createEventStore,
  databaseUrlSchema,
  EventStoreUnavailableError,
  eventStoreConfigSchema,
  eventStoreEnvSchema,
  missingDatabaseUrl,
  openEventStore,
} from './create-event-store.ts';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store.ts';
import { PostgresEventStore } from './postgres/postgres-event-store.ts';

const issuesOf = (env: Record<string, string>) =>
  eventStoreConfigSchema.safeParse(env).error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];

describe('event store configuration', () => {
  it('defaults to postgres and asks for DATABASE_URL with the message that says how to get one', () => {
    expect(issuesOf({})).toEqual([['DATABASE_URL', missingDatabaseUrl]]);
    expect(eventStoreConfigSchema.parse({ DATABASE_URL: 'postgres://x/y' }).EVENT_STORE).toBe('postgres');
  });

  it('asks for EVENTSTORE_URL when EVENT_STORE=eventstoredb, and rejects unknown adapters', () => {
    expect(issuesOf({ EVENT_STORE: 'eventstoredb' })).toEqual([
      ['EVENTSTORE_URL', 'EVENT_STORE=eventstoredb needs EVENTSTORE_URL'],
    ]);
    expect(issuesOf({ EVENT_STORE: 'kafka', DATABASE_URL: 'postgres://x/y' })[0]?.[0]).toBe('EVENT_STORE');
  });

  it('extends into a service schema with the same rule', () => {
    const service = z
      .object({ PORT: z.coerce.number().default(1) })
      .extend(eventStoreEnvSchema.shape)
      .superRefine(checkEventStoreEnv);
    expect(service.safeParse({ EVENT_STORE: 'eventstoredb' }).success).toBe(false);
    expect(service.parse({ EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://h:1?tls=false' }).PORT).toBe(1);
  });

  it('reports a missing DATABASE_URL once in a service that needs it whatever the adapter', () => {
    const service = z
      .object({ ...eventStoreEnvSchema.shape, DATABASE_URL: databaseUrlSchema })
      .superRefine(checkEventStoreEnv);
    for (const env of [{}, { DATABASE_URL: '' }, { EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://h:1' }]) {
      expect(service.safeParse(env).error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['DATABASE_URL', missingDatabaseUrl],
      ]);
    }
  });

  it('builds the selected adapter', async () => {
    const pg = createEventStore({ EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://127.0.0.1:1/none' });
    const esdb = createEventStore({ EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' });
    expect(pg).toBeInstanceOf(PostgresEventStore);
    expect(esdb).toBeInstanceOf(EventStoreDbEventStore);
    await Promise.all([pg.close(), esdb.close()]);
  });
});

describe('openEventStore', () => {
  it('fails naming EVENTSTORE_URL when EventStoreDB does not answer', async () => {
    const port = await freePort();
    const url = `esdb://127.0.0.1:${port}?tls=false`;
    const error = await openEventStore(
      { EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: url },
      { probeTimeoutMs: 1500 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreUnavailableError);
    expect((error as Error).message).toContain(`EVENTSTORE_URL=esdb://127.0.0.1:${port}`);
  });

  it('fails naming DATABASE_URL, without its password, when PostgreSQL does not answer', async () => {
    const port = await freePort();
    const error = await openEventStore(
      { EVENT_STORE: 'postgres', DATABASE_URL: `postgres://hatch:s3cret@127.0.0.1:${port}/none` },
      { probeTimeoutMs: 1500 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreUnavailableError);
    expect((error as Error).message).toContain(`DATABASE_URL=postgres://hatch:***@127.0.0.1:${port}/none`);
    expect((error as Error).message).not.toContain('s3cret');
  });
});
