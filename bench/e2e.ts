// bin/bench e2e [--rate 2000] [--seconds 20] [--drain 30] [--settle 120] [--idle 35] [--via http|log] [--transport log|kafka]
// Sends at a steady (open-loop) rate with the dispatcher and the mock providers running (no injected
// faults) and measures accept → provider received, per message: sustainedPerSec (median of the per-second
// delivered counts, first and last second of the load left out), p50/p99/max latency, undeliveredAtDrain
// (a backlog: not at the provider --drain seconds after the load) and lost (still not there after waiting
// the dispatcher out: until nothing moved for --idle seconds, at most --settle seconds more).
//   --via http (default): POST /api/messages/sms|email to a real command-API process; accept = its 202.
//   --via log: append MessageRequested through the EventStore port (what the command API does after
//              validation), to measure the dispatch path alone.
//   --transport kafka: a relay publishes requests to a real Kafka broker (KAFKA_BROKERS, else the local
//              broker from infra/kafka) and the dispatcher consumes the topic; log: the dispatcher keeps
//              its schedule from the log.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { currentSchemaVersion, messageEventId, messageStreamId } from '@hatch/domain';
import { freePort } from '@hatch/infra';
import {
  getJson,
  phone,
  type ServiceProcess,
  sleep,
  spawnService,
  startDispatcher,
  startMockProviders,
  waitFor,
} from '@hatch/testing/processes';
import pg from 'pg';
import { z } from 'zod';
import {
  benchDatabase,
  benchEventStore,
  parseFlags,
  percentile,
  printResult,
  reportStatements,
  round2,
} from './harness.ts';

const flags = parseFlags(process.argv.slice(2), {
  rate: '2000',
  seconds: '20',
  drain: '30',
  settle: '120',
  idle: '35',
  via: 'http',
  transport: 'log',
});
const usage =
  'usage: bin/bench e2e [--rate N] [--seconds N] [--drain S] [--settle S] [--idle S] [--via http|log] [--transport log|kafka]\n';
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const via = z.enum(['http', 'log']).safeParse(flags.via).data;
const transport = z.enum(['log', 'kafka']).safeParse(flags.transport).data;
if (!via || !transport || !(rate > 0) || !(seconds >= 1) || !Number.isInteger(seconds)) {
  process.stderr.write(usage);
  process.exit(2);
}

const db = await benchDatabase();
const providers = await startMockProviders();
const cleanups: (() => Promise<void>)[] = [];

let kafkaEnv: Record<string, string> = {};
if (transport === 'kafka') {
  const { startLocalKafka } = await import('@hatch/infra/kafka');
  const kafka = await startLocalKafka();
  cleanups.push(() => kafka.stop());
  kafkaEnv = {
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TOPIC: `bench-${randomUUID().slice(0, 8)}`,
    KAFKA_PARTITIONS: '12',
  };
  const relay = spawnService(
    'dispatcher',
    { DATABASE_URL: db.url, RELAY_PORT: String(await freePort()), ...kafkaEnv },
    'relay-main.ts',
  );
  cleanups.push(async () => {
    await relay.stop();
  });
  process.stderr.write(`[e2e] Kafka at ${kafka.brokers.join(',')} (${kafka.source}), relay started\n`);
}
const dispatcher = await startDispatcher(db.url, providers, {
  LOG_LEVEL: 'warn',
  PROVIDER_TIMEOUT_MS: '10000',
  DISPATCH_LEASE_MS: '30000',
  DISPATCH_POLL_MS: '200',
  DISPATCH_TRANSPORT: transport,
  ...kafkaEnv,
});

let commandApi: ServiceProcess | null = null;
let apiUrl = '';
if (via === 'http') {
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  commandApi = spawnService('command-api', {
    DATABASE_URL: db.url,
    API_PORT: String(port),
    SERVE_QUERIES: 'false',
    SERVE_INBOX: 'false',
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
  });
  await waitFor(async () => (await fetch(`${apiUrl}/ready`)).ok, 30_000, 'the command API to be ready');
}
const store = benchEventStore(db.url);

const acceptedAt = new Map<string, number>();
let failedAccepts = 0;

const viaHttp = async (i: number, email: boolean) => {
  const now = new Date().toISOString();
  const body = email
    ? {
        from: 'sender@hatch.test',
        to: `contact${i % 1000}@example.com`,
        body: '<p>benchmark</p>',
        attachments: [],
        timestamp: now,
      }
    : {
        from: '+12015550100',
        to: phone(i % 1000),
        type: 'sms',
        body: 'benchmark message',
        attachments: null,
        timestamp: now,
      };
  const { status, text } = await post(`/api/messages/${email ? 'email' : 'sms'}`, JSON.stringify(body));
  if (status !== 202) throw new Error(`HTTP ${status}`);
  return (JSON.parse(text) as { id: string }).id;
};

// node:http with keep-alive: far cheaper per request than fetch, so the load generator keeps up.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const post = (path: string, body: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      `${apiUrl}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const viaLog = async (i: number, email: boolean) => {
  const messageId = randomUUID();
  const now = new Date().toISOString();
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
        metadata: { correlationId: messageId, causationId: null, actor: 'bench', schemaVersion: currentSchemaVersion },
      },
    ],
    'no_stream',
  );
  return messageId;
};

const request = async (i: number) => {
  const email = i % 4 === 3;
  try {
    const id = await (via === 'http' ? viaHttp(i, email) : viaLog(i, email));
    acceptedAt.set(id, Date.now());
  } catch {
    failedAccepts++;
  }
};

// Open loop: every 10 ms, the requests due by now (so a slow tick is caught up, not dropped).
process.stderr.write(
  `[e2e] offering ${rate} msg/s for ${seconds}s via ${via}, transport ${transport} (sms:email 3:1)\n`,
);
const started = performance.now();
const startedAt = Date.now();
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

// Drain: wait for the provider ledgers to hold every accepted message, up to --drain seconds. What is
// missing then is a backlog (undeliveredAtDrain), not yet a loss.
const ledgerSchema = z.object({
  messages: z.array(z.object({ messageId: z.string().nullable(), receivedAt: z.number() })),
});
const received = new Map<string, number>();
const readLedgers = async () => {
  for (const url of Object.values(providers.urls)) {
    const ledger = ledgerSchema.parse(await getJson(`${url}/admin/messages`));
    for (const m of ledger.messages) {
      if (m.messageId && acceptedAt.has(m.messageId) && !received.has(m.messageId))
        received.set(m.messageId, m.receivedAt);
    }
  }
  return received.size;
};
// The ledgers are read whole: every 2 s, so reading them takes little from the dispatcher's CPU.
const drainUntil = Date.now() + Number(flags.drain) * 1000;
while ((await readLedgers()) < acceptedAt.size && Date.now() < drainUntil) {
  process.stderr.write(`[e2e] drain: provider received ${received.size}/${acceptedAt.size}\n`);
  await sleep(2000);
}
const undeliveredAtDrain = acceptedAt.size - received.size;

// Settle: wait the dispatcher out. Done when everything arrived, or when nothing moved (no new delivery and
// no attempt in flight) for --idle seconds (longer than the lease, so a retried attempt gets its turn); the
// --settle timeout ends a wait that is still moving (settled: false, lost is then only an upper bound).
const inFlight = async () => {
  const text = await fetch(`${dispatcher.url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  return Number(/^dispatcher_attempts_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
};
const settleUntil = Date.now() + Number(flags.settle) * 1000;
let settled = received.size >= acceptedAt.size;
let lastMove = Date.now();
let lastCount = received.size;
while (!settled && Date.now() < settleUntil) {
  await sleep(2000);
  const count = await readLedgers();
  if (count > lastCount || (await inFlight()) > 0) lastMove = Date.now();
  lastCount = count;
  settled = count >= acceptedAt.size || Date.now() - lastMove > Number(flags.idle) * 1000;
  process.stderr.write(`[e2e] settle: provider received ${count}/${acceptedAt.size}\n`);
}
const undelivered = [...acceptedAt.keys()].filter((id) => !received.has(id));
const lost = undelivered.length;
// The log says why a lost message was not delivered: a recorded failure or cancellation, or nothing at all.
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const failedInLog =
  lost === 0
    ? 0
    : (
        await sql.query<{ n: number }>(
          `SELECT count(DISTINCT stream_id)::int AS n FROM events
            WHERE stream_id = ANY($1) AND event_type IN ('MessageFailed', 'MessageCancelled')`,
          [undelivered.map(messageStreamId)],
        )
      ).rows[0]?.n;
await sql.end();

const latencies: number[] = [];
let firstAccept = Number.POSITIVE_INFINITY;
let lastReceived = 0;
// Delivered per second of the offered load (by provider receipt time); the steady window leaves out the
// first second (ramp-up) and the last (the load stopping), so the median says what the path sustains.
const perSecond = Array.from({ length: seconds }, () => 0);
for (const [id, at] of acceptedAt) {
  firstAccept = Math.min(firstAccept, at);
  const got = received.get(id);
  if (got === undefined) continue;
  lastReceived = Math.max(lastReceived, got);
  latencies.push(Math.max(0, got - at));
  const second = Math.floor((got - startedAt) / 1000);
  if (second >= 0 && second < seconds) perSecond[second] = (perSecond[second] ?? 0) + 1;
}
latencies.sort((a, b) => a - b);
const steady = (seconds > 2 ? perSecond.slice(1, -1) : perSecond).sort((a, b) => a - b);
const sustainedPerSec = percentile(steady, 50);
const messagesPerSec = latencies.length / Math.max(0.001, (lastReceived - firstAccept) / 1000);
process.stderr.write(
  `[e2e] accepted ${acceptedAt.size} (failed accepts ${failedAccepts}) in ${round2(offeredSeconds)}s; delivered ${latencies.length}; ` +
    `per second ${perSecond.join(' ')}; not at the provider at the drain's end ${undeliveredAtDrain}, lost ${lost} (failed/cancelled in the log ${failedInLog}, settled ${settled})\n`,
);

if (lost > 0) process.stderr.write(`[e2e] dispatcher output:\n${dispatcher.process.tail().slice(-3000)}\n`);
await reportStatements(db.url, 'e2e', 10);
await store.close();
await commandApi?.stop();
await dispatcher.process.stop();
for (const cleanup of cleanups.reverse()) await cleanup();
await providers.process.stop();
await db.stop();
printResult({
  scenario: 'e2e',
  sustainedPerSec,
  messagesPerSec: Math.round(messagesPerSec),
  p50Ms: round2(percentile(latencies, 50)),
  p99Ms: round2(percentile(latencies, 99)),
  maxMs: round2(latencies.at(-1) ?? 0),
  undeliveredAtDrain,
  lost,
  failedInLog: failedInLog ?? 0,
  settled,
  offeredPerSec: rate,
  seconds,
  // How long offering `rate × seconds` really took: longer than `seconds` when the accepting side fell behind.
  offeredSeconds: round2(offeredSeconds),
  accepted: acceptedAt.size,
  failedAccepts,
  via,
  transport,
});
process.exit(0);
