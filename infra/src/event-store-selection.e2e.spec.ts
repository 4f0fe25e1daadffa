// Every service's real main honours EVENT_STORE: each reports the adapter it runs on, and each refuses to
// start, naming the setting, when the configured log does not answer or DATABASE_URL is missing.
// The services are the default run's (local-stack), started as processes with their own environment.
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './embedded-postgres.ts';
import { type StackConfig, type StackService, stackServices } from './local-stack.ts';
import { repositoryRoot, type ServiceProcess, startServiceProcess } from './service-process.ts';

const start = (entry: string, env: Record<string, string>): ServiceProcess =>
  startServiceProcess({ entry: join(repositoryRoot, entry), env: { LOG_LEVEL: 'warn', ...env } });

async function readyBody(url: string, started: ServiceProcess, timeoutMs = 45_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return (await res.json()) as Record<string, unknown>;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${started.tail()}`);
}

async function stackConfig(): Promise<StackConfig> {
  const [apiPort, queryApiPort, dispatcherPort, projectorPort, sms, email, smsBackup, emailBackup] = await Promise.all(
    Array.from({ length: 8 }, () => freePort()),
  );
  return {
    apiPort: apiPort as number,
    queryApiPort: queryApiPort as number,
    dispatcherPort: dispatcherPort as number,
    projectorPort: projectorPort as number,
    smsProviderPort: sms as number,
    emailProviderPort: email as number,
    smsBackupProviderPort: smsBackup as number,
    emailBackupProviderPort: emailBackup as number,
  };
}

/** The services that hold an event store (the mock providers do not), plus the Kafka relay. */
async function logServices(databaseUrl: string): Promise<StackService[]> {
  const services = stackServices(await stackConfig(), databaseUrl).filter((s) => s.name !== 'mock-providers');
  const relayPort = await freePort();
  // No broker answers here: the relay reports its adapter on /health before it reaches Kafka.
  const closedBroker = await freePort();
  return [
    ...services.map((s) => ({ ...s, env: { ...s.env, SERVE_INBOX: 'false' } })),
    {
      name: 'relay',
      entry: 'services/dispatcher/src/relay-main.ts',
      bundle: 'relay',
      env: { DATABASE_URL: databaseUrl, RELAY_PORT: String(relayPort), KAFKA_BROKERS: `127.0.0.1:${closedBroker}` },
      readyUrl: `http://127.0.0.1:${relayPort}/health`,
      banner: '',
    },
  ];
}

describe('every service selects the configured event store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reports the postgres adapter on /ready (the relay: on /health, before Kafka)', async () => {
    const services = await logServices(db.url);
    expect(services.map((s) => s.name).sort()).toEqual([
      'command-api',
      'dispatcher',
      'projector',
      'query-api',
      'relay',
    ]);
    const running = services.map((s) => ({
      service: s,
      started: start(s.entry, { ...s.env, EVENT_STORE: 'postgres' }),
    }));
    try {
      const bodies = await Promise.all(running.map(({ service, started }) => readyBody(service.readyUrl, started)));
      for (const [i, body] of bodies.entries()) {
        expect({ service: running[i]?.service.name, eventStore: body.eventStore }).toEqual({
          service: running[i]?.service.name,
          eventStore: 'postgres',
        });
      }
    } finally {
      await Promise.all(running.map(({ started }) => started.stop()));
    }
  }, 120_000);

  it('exits non-zero naming EVENTSTORE_URL when EVENT_STORE=eventstoredb points at a closed port', async () => {
    const closed = await freePort();
    const url = `esdb://127.0.0.1:${closed}?tls=false`;
    const services = await logServices(db.url);
    const running = services.map((s) => ({
      service: s,
      started: start(s.entry, { ...s.env, EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: url }),
    }));
    try {
      const codes = await Promise.all(running.map(async ({ started }) => (await started.exited).code));
      for (const [i, { service, started }] of running.entries()) {
        expect({ service: service.name, code: codes[i] }).not.toEqual({ service: service.name, code: 0 });
        expect(started.tail()).toContain(`EVENTSTORE_URL=esdb://127.0.0.1:${closed}`);
      }
    } finally {
      await Promise.all(running.map(({ started }) => started.stop()));
    }
  }, 120_000);

  it('exits non-zero saying how to get DATABASE_URL when it is missing', async () => {
    const services = await logServices(db.url);
    const running = services.map((s) => ({
      service: s,
      started: start(s.entry, { ...s.env, EVENT_STORE: 'postgres', DATABASE_URL: '' }),
    }));
    try {
      const codes = await Promise.all(running.map(async ({ started }) => (await started.exited).code));
      for (const [i, { service, started }] of running.entries()) {
        expect({ service: service.name, code: codes[i] }).not.toEqual({ service: service.name, code: 0 });
        expect(started.tail()).toContain('DATABASE_URL is not set — bin/start.sh starts an embedded PostgreSQL');
      }
    } finally {
      await Promise.all(running.map(({ started }) => started.stop()));
    }
  }, 120_000);
});
