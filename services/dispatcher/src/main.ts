// Dispatcher: keeps the schedule from the log, claims due messages, dispatches them to providers.
import type { BreakerState, Classified, DispatchDeps } from '@hatch/dispatch';
import { PostgresEventStore } from '@hatch/event-store';
import { createLogger, loadConfig } from '@hatch/platform';
import pg from 'pg';
import { startClaimLoop } from './claim-loop.ts';
import { dispatcherConfigSchema } from './config.ts';
import { batchedConsentCheck } from './consent-reads.ts';
import { createDispatcherMetrics } from './dispatcher-metrics.ts';
import { startOpsServer } from './ops-server.ts';
import { providerDirectory } from './provider-routes.ts';
import { startScheduleProjection } from './schedule-projection.ts';

const config = loadConfig(dispatcherConfigSchema);
const log = createLogger('dispatcher');

const store = new PostgresEventStore({
  connectionString: config.DATABASE_URL,
  readConnections: config.EVENT_STORE_READ_CONNECTIONS,
  appendConnections: config.EVENT_STORE_APPEND_CONNECTIONS,
});
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));

let inFlight = () => 0;
let metrics: ReturnType<typeof createDispatcherMetrics> | null = null;
const hooks = {
  onProviderCall: (provider: string, result: Classified, ms: number) => metrics?.providerCall(provider, result, ms),
  onBreakerChange: (provider: string, state: BreakerState) => log.warn({ provider, state }, 'circuit breaker changed'),
};
const providers = providerDirectory(config, hooks);
metrics = createDispatcherMetrics(providers, () => inFlight());

const deps: DispatchDeps = {
  store,
  consent: batchedConsentCheck(pool),
  providers,
  hooks,
  policy: {
    maxAttemptsPerProvider: config.RETRY_MAX_ATTEMPTS_PER_PROVIDER,
    baseDelayMs: config.RETRY_BASE_DELAY_MS,
    maxDelayMs: config.RETRY_MAX_DELAY_MS,
    deadlineMs: config.RETRY_DEADLINE_MS,
  },
};

const claims = startClaimLoop({
  pool,
  deps,
  concurrency: config.DISPATCH_CONCURRENCY,
  backlog: config.DISPATCH_BACKLOG,
  leaseMs: config.DISPATCH_LEASE_MS,
  pollMs: config.DISPATCH_POLL_MS,
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
  onApplied: (leased, waiting) => {
    claims.submit(leased);
    // Rows the fast path could not take wait for a claim.
    if (waiting > 0) claims.wake();
  },
});

const ops = await startOpsServer({
  host: config.DISPATCHER_HOST,
  port: config.DISPATCHER_PORT,
  registry: metrics.registry,
  health: () => ({ breakers: providers.breakerStates(), inFlight: claims.inFlight }),
  ready: async () => {
    const database = await pool
      .query('SELECT 1')
      .then(() => true)
      .catch(() => false);
    return {
      ready: database && projection.healthy,
      detail: { database, subscribed: projection.healthy, breakers: providers.breakerStates() },
    };
  },
});
log.info({ port: config.DISPATCHER_PORT }, 'dispatcher listening');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'dispatcher stopping');
  ops.close();
  await projection.stop();
  await claims.stop();
  await store.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
