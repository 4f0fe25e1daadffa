// Routes mounted as client routes (main.ts: the query routes) sit behind the same key check as the
// commands: they learn the caller's account, and in production they refuse a request without a key.
import { randomBytes, randomUUID } from 'node:crypto';
import { localAccountId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger } from '@hatch/platform';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';
import { createCommandApi } from './app.ts';
import { type CommandApiConfig, defaultCommandApiConfig } from './config.ts';

const silent = createLogger('client-routes-test', { level: 'silent' });
let db: TestDatabase;
let store: PostgresEventStore;
const apps: Awaited<ReturnType<typeof createCommandApi>>[] = [];

async function api(config: Partial<CommandApiConfig> = {}) {
  const app = await createCommandApi(
    { eventStore: store, clock: { now: () => new Date() }, logger: silent, config: defaultCommandApiConfig(config) },
    {
      mountClientRoutes: async (scope) => {
        scope.get('/api/caller', async (request) => ({ accountId: request.accountId }));
      },
    },
  );
  apps.push(app);
  await app.ready();
  return app;
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = new PostgresEventStore({ connectionString: db.url });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await store.close();
  await db.drop();
});

describe('client routes', () => {
  it('act as the key’s account, and refuse a keyless request in production', async () => {
    const ops = accountOperations({
      store,
      now: () => new Date(),
      newId: randomUUID,
      random: randomBytes,
      actor: 'operator:test',
    });
    const created = await ops.createAccount('Acme', ['+12015550201']);
    if (!created.ok) throw new Error('account not created');
    const app = await api({ production: true });
    expect((await app.inject({ method: 'GET', url: '/api/caller' })).statusCode).toBe(401);
    const withKey = await app.inject({
      method: 'GET',
      url: '/api/caller',
      headers: { authorization: `Bearer ${created.value.apiKey}` },
    });
    expect(withKey.json()).toEqual({ accountId: created.value.accountId });
  });

  it('act as the local account without a key in local mode', async () => {
    const app = await api();
    expect((await app.inject({ method: 'GET', url: '/api/caller' })).json()).toEqual({ accountId: localAccountId });
  });
});
