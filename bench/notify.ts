// bin/bench notify: customer webhooks under load. Appends MessageRequested (→ message.queued) at a steady
// rate while the notifier delivers each to 10 endpoints: 8 healthy, one answering after 2 s, one failing half
// the time. Measures append → receipt at the healthy endpoints (p50/p99), delivered events/s, and lost
// (events a healthy or the flaky endpoint never received by the end of the drain). The slow endpoint can take
// at most WEBHOOK_ENDPOINT_CONCURRENCY / 2 s; its backlog is reported, and must not move the healthy p99.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  decideCreateWebhookEndpoint,
  generateWebhookSecret,
  localAccountId,
  webhookEndpointStreamId,
} from '@hatch/domain';
import { eventMetadata } from '@hatch/testing/events';
import { requestMessages, sleep, startNotifier } from '@hatch/testing/processes';
import { type Receiver, startReceiver } from '../services/notifier/src/fixtures/receiver.ts';
import { benchDatabase, benchEventStore, parseFlags, percentile, printResult, round2 } from './harness.ts';

// --slow 0: the slow endpoint answers at once too (the baseline the healthy p99 is compared with).
const flags = parseFlags(process.argv.slice(2), { rate: '20', seconds: '10', drain: '30', slots: '4', slow: '1' });
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);

const db = await benchDatabase();
const store = benchEventStore(db.url);
const notifier = await startNotifier(db.url, {
  LOG_LEVEL: 'warn',
  WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
  WEBHOOK_TIMEOUT_MS: '5000',
  WEBHOOK_LEASE_MS: '15000',
  WEBHOOK_ENDPOINT_CONCURRENCY: flags.slots as string,
});

const kinds = ['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'slow', 'flaky'];
const receivers: { kind: string; receiver: Receiver }[] = [];
for (const kind of kinds) {
  const receiver = await startReceiver();
  if (kind === 'slow') receiver.behave({ delayMs: flags.slow === '0' ? 0 : 2000 });
  if (kind === 'flaky') receiver.behave({ status: () => (Math.random() < 0.5 ? 500 : 200) });
  const endpointId = randomUUID();
  const secret = generateWebhookSecret(randomBytes);
  receiver.setSecret(secret);
  const decision = decideCreateWebhookEndpoint(
    {
      endpointId,
      accountId: localAccountId,
      url: receiver.url,
      eventTypes: ['message.queued'],
      secret,
      createdAt: new Date().toISOString(),
    },
    null,
    { production: false },
  );
  if (!decision.ok) throw new Error('endpoint not created');
  await store.append(
    webhookEndpointStreamId(endpointId),
    decision.events.map((e) => ({ ...e, metadata: eventMetadata({ actor: 'bench' }) })),
  );
  receivers.push({ kind, receiver });
}

process.stderr.write(`[notify] ${rate}/s for ${seconds}s to ${kinds.length} endpoints (1 slow, 1 flaky)\n`);
const appendedAt = new Map<string, number>();
const started = Date.now();
for (let tick = 0; tick < seconds * 10; tick++) {
  const due = started + tick * 100;
  await sleep(Math.max(0, due - Date.now()));
  const ids = await requestMessages(
    store,
    Array.from({ length: Math.round(rate / 10) }, (_, i) => ({
      channel: 'sms' as const,
      to: `+1804555${String((tick * 100 + i) % 10_000).padStart(4, '0')}`,
    })),
    { clientId: localAccountId },
  );
  const at = Date.now();
  for (const id of ids) appendedAt.set(id, at);
}
const total = appendedAt.size;

const messageIdOf = (body: string) => (JSON.parse(body) as { data: { messageId: string } }).data.messageId;
const uniqueIds = (r: Receiver) => new Set(r.received.map((x) => messageIdOf(x.body)));
const allArrived = () => receivers.filter((r) => r.kind !== 'slow').every((r) => uniqueIds(r.receiver).size >= total);
const until = Date.now() + Number(flags.drain) * 1000;
while (Date.now() < until && !allArrived()) await sleep(250);

const latencies = (kind: string) =>
  receivers
    .filter((r) => r.kind === kind)
    .flatMap((r) => {
      const first = new Map<string, number>();
      for (const x of r.receiver.received) {
        const id = messageIdOf(x.body);
        if (!first.has(id)) first.set(id, x.receivedAt - (appendedAt.get(id) ?? x.receivedAt));
      }
      return [...first.values()];
    })
    .sort((a, b) => a - b);
const healthy = latencies('healthy');
const lastReceipt = Math.max(
  ...receivers.filter((r) => r.kind === 'healthy').flatMap((r) => r.receiver.received.map((x) => x.receivedAt)),
);
const lost = receivers
  .filter((r) => r.kind !== 'slow')
  .reduce((sum, r) => sum + (total - uniqueIds(r.receiver).size), 0);
const slow = receivers.find((r) => r.kind === 'slow')?.receiver as Receiver;
const rejected = receivers.reduce((sum, r) => sum + r.receiver.rejected.length, 0);

await notifier.process.stop();
for (const r of receivers) await r.receiver.close();
await store.close();
await db.stop();

printResult({
  scenario: 'notify',
  rate,
  seconds,
  events: total,
  endpoints: kinds.length,
  deliveredPerSec: round2((healthy.length * 1000) / Math.max(1, lastReceipt - started)),
  healthyP50Ms: percentile(healthy, 50),
  healthyP99Ms: percentile(healthy, 99),
  flakyP99Ms: percentile(latencies('flaky'), 99),
  slowDelivered: uniqueIds(slow).size,
  slowBacklog: total - uniqueIds(slow).size,
  lost,
  badSignatures: rejected,
});
process.exit(lost === 0 && rejected === 0 ? 0 : 1);
