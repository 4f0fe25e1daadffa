// The shared contract against a real EventStoreDB/KurrentDB: EVENTSTORE_URL when set, else a
// testcontainers KurrentDB when a Docker engine answers, else the suite skips and says why.
import { dockerAvailable } from '@hatch/infra/containers';
import { describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '../contract/event-store.contract.ts';
import { EventStoreDbEventStore } from './eventstoredb-event-store.ts';
import { formatEsdbPosition, parseEsdbPosition } from './log-position.ts';

const image = process.env.KURRENTDB_IMAGE ?? 'docker.kurrent.io/kurrent-latest/kurrentdb:25.1';

async function eventStoreDbTarget(): Promise<{ url: string; stop(): Promise<void> } | { skip: string }> {
  if (process.env.EVENTSTORE_URL) return { url: process.env.EVENTSTORE_URL, stop: async () => {} };
  const docker = await dockerAvailable();
  if (!docker.available) return { skip: `no EVENTSTORE_URL and ${docker.reason}` };
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withEnvironment({
      KURRENTDB_INSECURE: 'true',
      KURRENTDB_MEM_DB: 'true',
      KURRENTDB_RUN_PROJECTIONS: 'None',
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_MEM_DB: 'true',
      EVENTSTORE_RUN_PROJECTIONS: 'None',
    })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
    .withStartupTimeout(90_000)
    .start();
  return {
    url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    stop: async () => {
      await container.stop();
    },
  };
}

const target = await eventStoreDbTarget();
const skipReason = 'skip' in target ? target.skip : null;
if (skipReason) console.log(`[eventstoredb] contract suite SKIPPED: ${skipReason}`);

describe.skipIf(skipReason !== null)('eventstoredb adapter', () => {
  describeEventStoreContract('eventstoredb', async () => {
    if ('skip' in target) throw new Error(target.skip);
    const store = new EventStoreDbEventStore({ connectionString: target.url });
    return {
      store,
      async close() {
        await store.close();
        await target.stop();
      },
    };
  });
});

describe('eventstoredb log positions', () => {
  it('sort like the (commit, prepare) pairs and round-trip', () => {
    const pairs = [
      { commit: 0n, prepare: 0n },
      { commit: 9n, prepare: 9n },
      { commit: 10n, prepare: 2n },
      { commit: 10n, prepare: 10n },
      { commit: 18_446_744_073_709_551_615n, prepare: 18_446_744_073_709_551_615n },
    ];
    const formatted = pairs.map(formatEsdbPosition);
    expect([...formatted].sort()).toEqual(formatted);
    expect(formatted.map(parseEsdbPosition)).toEqual(pairs);
    expect(() => parseEsdbPosition('nope')).toThrow(TypeError);
  });
});
