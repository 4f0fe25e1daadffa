// bin/bench send: HTTP load of valid SMS sends (POST /api/messages/sms, 202 after MessageRequested is durable)
// against the real command-api process on a throw-away embedded PostgreSQL (or DATABASE_URL).
// The API runs as a child process so the load generator (autocannon, here) does not share its event loop.
import { fileURLToPath } from 'node:url';
import { freePort } from '@hatch/infra';
import autocannon from 'autocannon';
import pg from 'pg';
import { benchDatabase, coresCeiling, parseFlags, printResult, reportStatements, startService } from './harness.ts';

const flags = parseFlags(process.argv.slice(2), {
  connections: '64',
  seconds: '20',
  warmup: '3',
  pipelining: '1',
  'append-connections': '1',
  'log-level': 'info',
});
const db = await benchDatabase();
const port = await freePort();
const mainFile = fileURLToPath(new URL('../services/command-api/src/main.ts', import.meta.url));
const server = await startService({
  name: 'command-api',
  mainFile,
  env: {
    DATABASE_URL: db.url,
    API_PORT: String(port),
    API_HOST: '127.0.0.1',
    LOG_LEVEL: flags['log-level'],
    APPEND_CONNECTIONS: flags['append-connections'],
    // One bench client sends far beyond a production per-client quota; the limiter still runs.
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
  },
});
const base = `http://127.0.0.1:${port}`;
await server.waitReady(`${base}/health`);

const body = JSON.stringify({
  from: '+12016661234',
  to: '+18045551234',
  type: 'sms',
  body: 'Your appointment is confirmed for tomorrow at 10:00. Reply STOP to opt out.',
  attachments: null,
  timestamp: '2024-11-01T14:00:00Z',
});
const load = (seconds: number) =>
  autocannon({
    url: `${base}/api/messages/sms`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: Number(flags.connections),
    pipelining: Number(flags.pipelining),
    duration: seconds,
  });

process.stderr.write(`[send] warmup ${flags.warmup}s, ${flags.connections} connections\n`);
if (Number(flags.warmup) > 0) await load(Number(flags.warmup));
process.stderr.write(`[send] measuring ${flags.seconds}s\n`);
const cpuBefore = server.cpuMs();
const pgCpuBefore = db.cpuMs();
const loadCpuBefore = process.cpuUsage();
const result = await load(Number(flags.seconds));
const serverCpu = server.cpuMs() - cpuBefore;
const pgCpuAfter = db.cpuMs();
const pgCpu = pgCpuAfter === null || pgCpuBefore === null ? null : pgCpuAfter - pgCpuBefore;
const loadCpuUsed = process.cpuUsage(loadCpuBefore);
const loadCpu = (loadCpuUsed.user + loadCpuUsed.system) / 1000;

const sql = new pg.Client({ connectionString: db.url });
await sql.connect();
const { rows } = await sql.query(`SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageRequested'`);
await sql.end();
const accepted = result['2xx'];
const errors = result.errors + result.timeouts + result.non2xx;
process.stderr.write(
  `[send] command-api CPU ${(serverCpu / 1000).toFixed(1)} s = ${((serverCpu * 1000) / Math.max(1, accepted)).toFixed(0)} µs per accepted send (machine load avg ${(await import('node:os')).loadavg()[0]?.toFixed(1)})\n`,
);
// Every process of the run shares the machine's cores: their CPU per send bounds what the machine can do.
const perSend = (ms: number) => Math.round((ms * 1000) / Math.max(1, accepted));
const cpuPerSendUs = {
  commandApi: perSend(serverCpu),
  postgres: pgCpu === null ? null : perSend(pgCpu),
  loadGenerator: perSend(loadCpu),
};
const machineUs = cpuPerSendUs.commandApi + (cpuPerSendUs.postgres ?? 0) + cpuPerSendUs.loadGenerator;
const ceiling = coresCeiling(machineUs);
process.stderr.write(
  `[send] CPU per send: command API ${cpuPerSendUs.commandApi} µs, PostgreSQL ${cpuPerSendUs.postgres ?? '?'} µs, load generator ${cpuPerSendUs.loadGenerator} µs: ${machineUs} µs in all, so ${ceiling.cores} cores cap this run near ${ceiling.perSec} sends/s\n`,
);
process.stderr.write(
  `[send] ${accepted} accepted (202) in ${flags.seconds}s, ${rows[0].n} MessageRequested in the log, non-2xx ${result.non2xx}, socket errors ${result.errors}, timeouts ${result.timeouts}, p90 ${result.latency.p90} ms, max ${result.latency.max} ms\n`,
);
await reportStatements(db.url, 'send');
await server.stop();
await db.stop();
printResult({
  scenario: 'send',
  requestsPerSec: Math.round(accepted / Number(flags.seconds)),
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors,
  connections: Number(flags.connections),
  seconds: Number(flags.seconds),
  cpuPerSendUs,
});
process.exit(0);
