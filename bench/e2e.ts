// bin/bench e2e: MessageRequested at a steady rate with the dispatcher and the mock providers running
// (no injected faults); measures accept (the append committed) → provider received, per message.
// The command API is not on this branch yet, so requests are appended through the EventStore port,
// exactly what the command API does after validation; switch `accept` to HTTP once it exists.
import { randomUUID } from 'node:crypto';
import { currentSchemaVersion, messageEventId, messageStreamId } from '@hatch/domain';
import { PostgresEventStore } from '@hatch/event-store';
import {
  getJson,
  phone,
  sleep,
  startDispatcher,
  startMockProviders,
} from '../services/dispatcher/src/testing/stack.ts';
import { benchDatabase, parseFlags, percentile, printResult, round2 } from './harness.ts';

const flags = parseFlags(process.argv.slice(2), { rate: '2000', seconds: '20', drain: '30' });
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);

const db = await benchDatabase();
const providers = await startMockProviders();
const dispatcher = await startDispatcher(db.url, providers, {
  LOG_LEVEL: 'warn',
  PROVIDER_TIMEOUT_MS: '10000',
  DISPATCH_LEASE_MS: '30000',
  DISPATCH_POLL_MS: '200',
});
const store = new PostgresEventStore({ connectionString: db.url });

const acceptedAt = new Map<string, number>();
let failedAppends = 0;
const request = async (i: number) => {
  const messageId = randomUUID();
  const now = new Date().toISOString();
  const email = i % 4 === 3;
  try {
    await store.append(
      messageStreamId(messageId),
      [
        {
          id: messageEventId(messageId, 'MessageRequested'),
          type: 'MessageRequested',
          data: {
            messageId,
            conversationId: randomUUID(),
            channel: email ? 'email' : 'sms',
            from: email ? 'sender@hatch.test' : '+12015550100',
            to: email ? `contact${i % 1000}@example.com` : phone(i % 1000),
            body: 'benchmark message',
            attachments: [],
            subject: email ? 'bench' : null,
            cc: [],
            bcc: [],
            replyTo: null,
            timestamp: now,
            clientId: 'bench',
            segments: 1,
            requestedAt: now,
          },
          metadata: {
            correlationId: messageId,
            causationId: null,
            actor: 'bench',
            schemaVersion: currentSchemaVersion,
          },
        },
      ],
      'no_stream',
    );
    acceptedAt.set(messageId, Date.now());
  } catch {
    failedAppends++;
  }
};

// Open loop: every 10 ms, the requests due by now (so a slow tick is caught up, not dropped).
process.stderr.write(`[e2e] offering ${rate} msg/s for ${seconds}s (sms:email 3:1)\n`);
const started = performance.now();
const pending: Promise<void>[] = [];
let sent = 0;
const total = rate * seconds;
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
  while (sent < due) pending.push(request(sent++));
  if (sent % (rate * 2) < rate / 100)
    process.stderr.write(`[e2e] ${Math.round((performance.now() - started) / 1000)}s requested ${sent}\n`);
  await sleep(10);
}
await Promise.all(pending);
const offeredSeconds = (performance.now() - started) / 1000;

type Ledger = { messages: Array<{ messageId: string | null; receivedAt: number }> };
const received = new Map<string, number>();
const drainUntil = Date.now() + Number(flags.drain) * 1000;
while (Date.now() < drainUntil) {
  received.clear();
  for (const url of Object.values(providers.urls)) {
    const ledger = await getJson<Ledger>(`${url}/admin/messages`);
    for (const m of ledger.messages) {
      if (m.messageId && !received.has(m.messageId)) received.set(m.messageId, m.receivedAt);
    }
  }
  process.stderr.write(`[e2e] provider received ${received.size}/${acceptedAt.size}\n`);
  if (received.size >= acceptedAt.size) break;
  await sleep(1000);
}

const latencies: number[] = [];
let firstAccept = Number.POSITIVE_INFINITY;
let lastReceived = 0;
for (const [id, at] of acceptedAt) {
  firstAccept = Math.min(firstAccept, at);
  const got = received.get(id);
  if (got === undefined) continue;
  lastReceived = Math.max(lastReceived, got);
  latencies.push(Math.max(0, got - at));
}
latencies.sort((a, b) => a - b);
const lost = acceptedAt.size - latencies.length;
const messagesPerSec = latencies.length / ((lastReceived - firstAccept) / 1000);
process.stderr.write(
  `[e2e] accepted ${acceptedAt.size} (append failures ${failedAppends}) in ${round2(offeredSeconds)}s; delivered ${latencies.length}; max ${latencies.at(-1)} ms\n`,
);

if (lost > 0) process.stderr.write(`[e2e] dispatcher output:\n${dispatcher.process.output.join('').slice(-3000)}\n`);
await store.close();
await dispatcher.process.kill();
await providers.process.kill();
await db.stop();
printResult({
  scenario: 'e2e',
  messagesPerSec: Math.round(messagesPerSec),
  p50Ms: round2(percentile(latencies, 50)),
  p99Ms: round2(percentile(latencies, 99)),
  lost,
  offeredPerSec: rate,
  seconds,
  accepted: acceptedAt.size,
  via: 'event-store',
});
process.exit(0);
