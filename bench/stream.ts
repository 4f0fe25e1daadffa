// bin/bench stream [--clients 1000] [--rate 100] [--seconds 15] [--conversations 50]
// Live streams under load: the real command API and projector as processes on a throw-away embedded
// PostgreSQL (or DATABASE_URL). The same open-loop send load (POST /api/messages/sms at --rate, spread over
// --conversations conversations) runs twice: with no stream open, then with --clients SSE clients connected
// (half /api/stream, half /api/conversations/:id/stream over those conversations). Reports send p99 both
// ways and the delivery lag to the clients (the event's append time in the log → a client has it).
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from '@hatch/infra';
import { spawnService, waitFor } from '@hatch/testing/processes';
import autocannon from 'autocannon';
import { benchDatabase, parseFlags, percentile, printResult, round2, startService } from './harness.ts';

const flags = parseFlags(process.argv.slice(2), {
  clients: '1000',
  rate: '100',
  seconds: '15',
  warmup: '3',
  conversations: '50',
  drain: '10',
  connections: '16',
});
const clients = Number(flags.clients);
const conversationCount = Number(flags.conversations);
const db = await benchDatabase();
const projector = spawnService('projector', { DATABASE_URL: db.url, PROJECTOR_PORT: String(await freePort()) });
const port = await freePort();
const server = await startService({
  name: 'command-api',
  mainFile: fileURLToPath(new URL('../services/command-api/src/main.ts', import.meta.url)),
  env: {
    DATABASE_URL: db.url,
    API_PORT: String(port),
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SERVE_INBOX: 'false',
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    // Every bench client is the local account: lift the per-account cap for the measurement.
    STREAMS_PER_ACCOUNT: String(clients + 100),
    STREAMS_TOTAL: String(clients + 100),
  },
});
const base = `http://127.0.0.1:${port}`;
await server.waitReady(`${base}/health`);

const recipients = Array.from({ length: conversationCount }, (_, i) => `+1804555${String(1000 + i).padStart(4, '0')}`);
const send = (to: string) =>
  JSON.stringify({
    from: '+12016661234',
    to,
    type: 'sms',
    body: 'Your appointment is confirmed for tomorrow at 10:00. Reply STOP to opt out.',
    attachments: null,
    timestamp: '2024-11-01T14:00:00Z',
  });

// One message per conversation first, so the conversation streams have conversations to watch.
const conversationIds: string[] = [];
let seededAt = '';
for (const to of recipients) {
  const res = await fetch(`${base}/api/messages/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: send(to),
  });
  const body = (await res.json()) as { conversationId: string; position: string };
  conversationIds.push(body.conversationId);
  seededAt = body.position;
}
await waitFor(
  async () => (await fetch(`${base}/api/conversations?limit=1&after=${seededAt}`)).ok,
  30_000,
  `the projector to apply the seed (${projector.tail()})`,
);

let next = 0;
const load = (seconds: number) =>
  autocannon({
    url: base,
    connections: Number(flags.connections),
    overallRate: Number(flags.rate),
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/api/messages/sms',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: send(recipients[next++ % recipients.length] as string) }),
      },
    ],
  });
const measureSends = async (label: string) => {
  process.stderr.write(`[stream] ${label}: warmup ${flags.warmup}s, then ${flags.seconds}s at ${flags.rate}/s\n`);
  if (Number(flags.warmup) > 0) await load(Number(flags.warmup));
  const cpuBefore = server.cpuMs();
  const result = await load(Number(flags.seconds));
  return {
    accepted: result['2xx'],
    errors: result.errors + result.timeouts + result.non2xx,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    serverCpuS: round2((server.cpuMs() - cpuBefore) / 1000),
  };
};

const without = await measureSends('sends, no streams open');

// The clients: each counts its events; every 10th parses them for the delivery lag (parsing them all
// here would measure this process, not the server).
const lags: number[] = [];
let delivered = 0;
let ended = 0;
let refused = 0;
let measuring = false;
const recordedAtPattern = /"recordedAt":"([^"]+)"/g;
const sockets: http.ClientRequest[] = [];
const connected = await Promise.all(
  Array.from({ length: clients }, (_, i) => {
    const path =
      i % 2 === 0 ? '/api/stream' : `/api/conversations/${conversationIds[(i >> 1) % conversationIds.length]}/stream`;
    const timed = i % 10 < 2;
    return new Promise<boolean>((resolve) => {
      const request = http.get(`${base}${path}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          refused++;
          res.resume();
          return resolve(false);
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = Date.now();
          if (!measuring) return;
          if (!timed) {
            delivered += chunk.split('"recordedAt"').length - 1;
            return;
          }
          for (const m of chunk.matchAll(recordedAtPattern)) {
            delivered++;
            lags.push(now - Date.parse(m[1] as string));
          }
        });
        res.on('close', () => {
          if (measuring) ended++;
        });
        resolve(true);
      });
      request.on('error', () => resolve(false));
      sockets.push(request);
    });
  }),
);
process.stderr.write(
  `[stream] ${connected.filter(Boolean).length}/${clients} streams connected (${refused} refused)\n`,
);
measuring = true;
const withClients = await measureSends(`sends, ${clients} streams open`);
await new Promise((resolve) => setTimeout(resolve, Number(flags.drain) * 1000));
measuring = false;
for (const s of sockets) s.destroy();
lags.sort((a, b) => a - b);
process.stderr.write(
  `[stream] ${delivered} events delivered to clients, lag sampled on ${lags.length}; streams ended early ${ended}\n`,
);

await server.stop();
await projector.stop();
await db.stop();
printResult({
  scenario: 'stream',
  clients,
  connected: connected.filter(Boolean).length,
  ratePerSec: Number(flags.rate),
  seconds: Number(flags.seconds),
  sendP99MsWithoutStreams: without.p99Ms,
  sendP99MsWithStreams: withClients.p99Ms,
  sendP50MsWithoutStreams: without.p50Ms,
  sendP50MsWithStreams: withClients.p50Ms,
  sendErrors: without.errors + withClients.errors,
  acceptedWithStreams: withClients.accepted,
  serverCpuSWithoutStreams: without.serverCpuS,
  serverCpuSWithStreams: withClients.serverCpuS,
  deliveredEvents: delivered,
  deliveryLagP50Ms: round2(percentile(lags, 50)),
  deliveryLagP99Ms: round2(percentile(lags, 99)),
  deliveryLagMaxMs: round2(lags.at(-1) ?? 0),
  streamsEndedEarly: ended,
});
process.exit(0);
