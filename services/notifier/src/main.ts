// The notifier process: follows the log from its own checkpoint into the delivery tables, and delivers
// customers' webhooks from them (Standard Webhooks, retries, 410 disables); /health /ready /metrics.
import { handleCommand } from '@hatch/commands';
import { decideDisableWebhookEndpoint, webhookEndpointFold, webhookEndpointStreamId } from '@hatch/domain';
import { openEventStore, startCheckpointedConsumer } from '@hatch/event-store';
import { createHttpServer, registerOperations } from '@hatch/http';
import { createLogger, createMetricsRegistry, failStartup, loadConfig, secretBoxFrom } from '@hatch/platform';
import { pruneDeliveredDeliveries, webhookHealth } from '@hatch/webhooks';
import pg from 'pg';
import { Counter, Histogram } from 'prom-client';
import { notifierConfigSchema } from './config.ts';
import { startDeliveryLoop } from './delivery-loop.ts';
import { applyNotifierBatch, applyReplay } from './notifier-batch.ts';

const config = loadConfig(notifierConfigSchema);
const log = createLogger('notifier', { level: config.LOG_LEVEL });
const production = config.NODE_ENV === 'production';
const secrets = secretBoxFrom(config);
if (secrets.development)
  log.warn(
    'WEBHOOK_SECRETS_KEY is not set: endpoint secrets are opened with the fixed DEVELOPMENT key (local mode only)',
  );
const store = await openEventStore(config).catch(failStartup);
// Attempts are recorded as they finish: enough connections that in-flight attempts rarely wait for one.
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 12 });
pool.on('error', (error) => log.warn({ err: error }, 'idle database connection lost'));

const registry = createMetricsRegistry('notifier');
const attempts = new Counter({
  name: 'hatch_webhook_attempts_total',
  help: 'Webhook delivery attempts by outcome (delivered | gone | retry)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
const latency = new Histogram({
  name: 'hatch_webhook_attempt_duration_seconds',
  help: 'Time from sending a webhook to its answer',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const deliveries = startDeliveryLoop({
  pool,
  log,
  policy: {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES,
    publicOnly: production,
  },
  secrets: secrets.box,
  schedule: config.WEBHOOK_RETRY_SCHEDULE,
  concurrency: config.WEBHOOK_CONCURRENCY,
  endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
  leaseMs: config.WEBHOOK_LEASE_MS,
  pollMs: config.WEBHOOK_POLL_MS,
  disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
  disable: async (endpointId, reason, detail) => {
    await handleCommand(store, {
      streamId: webhookEndpointStreamId(endpointId),
      fold: webhookEndpointFold,
      decide: (state) =>
        decideDisableWebhookEndpoint({ endpointId, reason, detail, disabledAt: new Date().toISOString() }, state),
      metadata: { correlationId: endpointId, causationId: null, actor: 'notifier' },
    });
    log.warn({ endpointId, reason, detail }, 'webhook endpoint disabled');
  },
  onAttempt: (outcome, ms) => {
    attempts.inc({ outcome });
    latency.observe(ms / 1000);
  },
});

const consumer = startCheckpointedConsumer({
  store,
  pool,
  subscriptionId: config.NOTIFIER_SUBSCRIPTION_ID,
  batchSize: config.NOTIFIER_BATCH_SIZE,
  apply: async (client, events) => {
    const replays = await applyNotifierBatch(client, events);
    for (const replay of replays) {
      const queued = await applyReplay(client, store, replay);
      log.info({ endpointId: replay.endpointId, replayId: replay.replayId, queued }, 'replay queued');
    }
  },
  onCommitted: () => deliveries.wake(),
  onError: (error) => log.error({ err: error }, 'notifier batch failed; restarting from the checkpoint'),
});

// Retention: one run at a time, batch by batch, so the delivery tables stay the size of the window.
let pruning: Promise<void> | null = null;
const prune = () => {
  pruning ??= pruneDeliveredDeliveries(pool, {
    deliveredBefore: new Date(Date.now() - config.WEBHOOK_RETENTION_DAYS * 86_400_000),
    batchSize: config.WEBHOOK_RETENTION_BATCH,
  })
    .then((deleted) => {
      if (deleted > 0) log.info({ deleted, days: config.WEBHOOK_RETENTION_DAYS }, 'expired webhook deliveries deleted');
    })
    .catch((error: unknown) => log.warn({ err: error }, 'webhook retention run failed; retried next interval'))
    .finally(() => {
      pruning = null;
    });
};
const retention = setInterval(prune, config.WEBHOOK_RETENTION_INTERVAL_MS);
retention.unref();
prune();

const app = await createHttpServer({ logger: log });
registerOperations(app, {
  registry,
  ready: async () => {
    await pool.query('SELECT 1');
    return consumer.healthy;
  },
  details: { eventStore: config.EVENT_STORE, inFlight: () => deliveries.inFlight },
});
// For the inbox's operations view (gathered server side, like the dispatcher's and projector's figures).
app.get('/webhooks/health', { schema: { hide: true } }, async () => webhookHealth(pool));
await app.listen({ host: config.NOTIFIER_HOST, port: config.NOTIFIER_PORT });
log.info({ port: config.NOTIFIER_PORT, production }, 'notifier started');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'notifier stopping');
  clearInterval(retention);
  await consumer.stop();
  await deliveries.stop();
  await pruning;
  await app.close();
  await store.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
