// Dispatcher: keeps the schedule from the log, claims due messages, dispatches them to providers.
import type { BreakerState, Classified, DispatchDeps, LookupAnswer } from '@hatch/dispatch';
import { batchedStreamReads, openEventStore, poolTimeouts, poolTimeoutsFromEnv } from '@hatch/event-store';
import { kafkaDispatchConfigSchema } from '@hatch/kafka-dispatch';
import { createLogger, failStartup, loadConfig } from '@hatch/platform';
import pg from 'pg';
import { startBacklogGauges } from './backlog-gauges.ts';
import { startClaimLoop } from './claim-loop.ts';
import { dispatcherConfigSchema } from './config.ts';
import { batchedConsentCheck } from './consent-reads.ts';
import { createDispatcherMetrics } from './dispatcher-metrics.ts';
import { startKafkaDispatch } from './kafka-transport.ts';
import { startOpsServer } from './ops-server.ts';
import { providerDirectory } from './provider-routes.ts';
import { scheduleQuarantineName, startScheduleProjection } from './schedule-projection.ts';

const config = loadConfig(dispatcherConfigSchema);
const log = createLogger('dispatcher');

const store = await openEventStore(config, {
  tuning: {
    readConnections: config.EVENT_STORE_READ_CONNECTIONS,
    appendConnections: config.EVENT_STORE_APPEND_CONNECTIONS,
  },
}).catch(failStartup);
const pool = new pg.Pool({
  connectionString: config.DATABASE_URL,
  max: config.DISPATCH_POOL_CONNECTIONS,
  ...poolTimeouts(poolTimeoutsFromEnv()),
});
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));

let inFlight = () => 0;
let metrics: ReturnType<typeof createDispatcherMetrics> | null = null;
const hooks = {
  onProviderCall: (provider: string, result: Classified, ms: number) => metrics?.providerCall(provider, result, ms),
  onBreakerChange: (provider: string, state: BreakerState) => log.warn({ provider, state }, 'circuit breaker changed'),
  onLookup: (provider: string, answer: LookupAnswer) => {
    metrics?.lookup(provider, answer);
    if (answer.kind !== 'not_found') log.info({ provider, answer }, 'looked up a message at its provider');
  },
};
const providers = providerDirectory(config, hooks);
const dispatcherMetrics = createDispatcherMetrics(providers, () => inFlight());
metrics = dispatcherMetrics;

// Claimed messages and Kafka records name only a message id, and every attempt reads its consent stream:
// all those reads share one batcher, so they share queries too.
const readBatched = batchedStreamReads(store);
const deps: DispatchDeps = {
  store,
  readMessageStream: readBatched,
  consent: batchedConsentCheck(readBatched),
  providers,
  hooks,
  policy: {
    maxAttemptsPerProvider: config.RETRY_MAX_ATTEMPTS_PER_PROVIDER,
    baseDelayMs: config.RETRY_BASE_DELAY_MS,
    maxDelayMs: config.RETRY_MAX_DELAY_MS,
    deadlineMs: config.RETRY_DEADLINE_MS,
  },
};

// Two transports feed the same dispatchAttempt: the log (this process keeps the schedule) or Kafka
// (dispatchers in one consumer group share the relay's topic; see relay-main.ts).
const logTransport = async () => {
  const backlog = await startBacklogGauges({
    pool,
    registry: dispatcherMetrics.registry,
    intervalMs: config.DISPATCH_BACKLOG_SAMPLE_MS,
    log,
  });
  const claims = startClaimLoop({
    pool,
    deps,
    concurrency: config.DISPATCH_CONCURRENCY,
    backlog: config.DISPATCH_BACKLOG,
    leaseMs: config.DISPATCH_LEASE_MS,
    pollMs: config.DISPATCH_POLL_MS,
    aheadMs: config.DISPATCH_AHEAD_MS,
    log,
    onResult: (result) => metrics?.outcome(result),
    onError: () => metrics?.error(),
  });
  inFlight = () => claims.inFlight;
  const projection = startScheduleProjection({
    store,
    pool,
    subscriptionId: config.DISPATCHER_SUBSCRIPTION_ID,
    batchSize: config.DISPATCH_BATCH_SIZE,
    leaseMs: config.DISPATCH_LEASE_MS,
    log,
    freeSlots: () => claims.freeSlots,
    onQuarantined: (entries) => metrics?.quarantined(scheduleQuarantineName, entries.length),
    onApplied: (leased, waiting, leasedUntilMs) => {
      claims.submit(leased, leasedUntilMs);
      // Rows the fast path could not take wait for a claim.
      if (waiting > 0) claims.wake();
    },
  });
  return {
    healthy: () => projection.healthy,
    stop: async () => {
      backlog.stop();
      await projection.stop();
      await claims.stop();
    },
  };
};

const kafkaTransport = async () => {
  const consumer = await startKafkaDispatch({
    config: loadConfig(kafkaDispatchConfigSchema),
    deps,
    concurrency: config.DISPATCH_CONCURRENCY,
    log,
    onResult: (result) => metrics?.outcome(result),
  });
  let joined = false;
  void consumer.joined.then(() => {
    joined = true;
  });
  return { healthy: () => joined, stop: () => consumer.stop() };
};

// Answers /health at once; /ready turns true once the transport runs (Kafka: the group is joined).
let transport: { healthy: () => boolean; stop: () => Promise<void> } = { healthy: () => false, stop: async () => {} };

const ops = await startOpsServer({
  host: config.DISPATCHER_HOST,
  port: config.DISPATCHER_PORT,
  registry: metrics.registry,
  health: () => ({
    eventStore: config.EVENT_STORE,
    breakers: providers.breakerStates(),
    inFlight: inFlight(),
    transport: config.DISPATCH_TRANSPORT,
  }),
  ready: async () => {
    const database = await pool
      .query('SELECT 1')
      .then(() => true)
      .catch(() => false);
    return {
      ready: database && transport.healthy(),
      detail: {
        eventStore: config.EVENT_STORE,
        database,
        subscribed: transport.healthy(),
        breakers: providers.breakerStates(),
      },
    };
  },
});
log.info({ port: config.DISPATCHER_PORT }, 'dispatcher listening');
transport = config.DISPATCH_TRANSPORT === 'kafka' ? await kafkaTransport() : await logTransport();
log.info({ transport: config.DISPATCH_TRANSPORT }, 'dispatch transport started');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'dispatcher stopping');
  ops.close();
  await transport.stop();
  await store.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
