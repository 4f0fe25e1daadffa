// bin/bench query: the query routes on a read model of N events (default 10,000 and then 1,000,000, the
// issue's shape: 20,000 conversations and 312,500 messages per million events), as a client reads them:
// through the command API (its one base URL) with an account API key, so authentication, the rate
// limiter and account scoping all run. Per size: the log is bulk-inserted (bench/message-log.ts), the
// real projector builds the read model from it, then autocannon loads each route in turn. The command
// API runs as a child process so autocannon does not share its event loop; the server's CPU per request
// is steadier than requests/s on a shared machine.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { localAccountId } from '@hatch/domain';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections } from '@hatch/projections';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import autocannon from 'autocannon';
import pg from 'pg';
import { accountOperations } from '../bin/account-operations.ts';
import {
  benchDatabase,
  benchEventStore,
  parseFlags,
  printResult,
  reportStatements,
  round2,
  startService,
} from './harness.ts';
import { generateMessageLog } from './message-log.ts';

const flags = parseFlags(process.argv.slice(2), {
  sizes: '10000,1000000',
  // Contacts (= conversations: each contact has one channel) per million events; scaled to each size.
  'conversations-per-million': '20000',
  connections: '32',
  seconds: '10',
  warmup: '3',
  batch: '20000',
  routes: 'page,participant,messages',
  // true: keep a log of this size already in DATABASE_URL (from an earlier run) instead of seeding again,
  // so runs of two checkouts can alternate on one 1M-event database.
  reuse: 'false',
});
const log = (line: string) => process.stderr.write(`[query] ${line}\n`);
const sizes = String(flags.sizes).split(',').map(Number);
const routeNames = String(flags.routes).split(',');
const db = await benchDatabase();
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
pool.on('error', () => {});

interface RouteResult {
  path: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerRequest: number;
  errors: number;
}

/** Empties every table but the migrations' own. */
async function emptyDatabase() {
  const { rows } = await pool.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
  );
  await pool.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')}`);
}

/** The message events already in the log, when `--reuse true` and the log holds this size's (within 1%). */
async function reusableLog(events: number) {
  if (flags.reuse !== 'true') return null;
  const { rows } = await pool.query<{ n: number; streams: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT stream_id)::int AS streams FROM events WHERE category = 'message'`,
  );
  const found = rows[0];
  return found && Math.abs(found.n - events) <= events / 100 ? { events: found.n, messages: found.streams } : null;
}

async function measureSize(events: number) {
  const contacts = Math.max(
    10,
    Math.round(((events / 1_000_000) * Number(flags['conversations-per-million'])) / 10) * 10,
  );
  const seedStarted = performance.now();
  let generated = await reusableLog(events);
  if (generated) log(`${events}: reusing the log already in the database (${generated.events} events)`);
  else {
    await emptyDatabase();
    generated = await generateMessageLog(pool, { events, contacts });
  }
  const generatedSeconds = (performance.now() - seedStarted) / 1000;
  log(
    `${events}: ${generated.events} events (${generated.messages} messages) in the log after ${round2(generatedSeconds)} s`,
  );

  const port = await freePort();
  const server = await startService({
    name: 'command API',
    mainFile: fileURLToPath(new URL('../services/command-api/src/main.ts', import.meta.url)),
    env: {
      DATABASE_URL: db.url,
      API_PORT: String(port),
      API_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // One bench client reads far beyond a production per-account quota; the limiter still runs.
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await server.waitReady(`${base}/ready`);
  // The workload's messages are the local account's (they name no account); the client reads with its key.
  const store = benchEventStore(db.url, { readConnections: 2 });
  const ops = accountOperations({
    store,
    now: () => new Date(),
    newId: randomUUID,
    random: randomBytes,
    actor: 'bench',
  });
  const issued = await ops.issueKey(localAccountId, 'bench-query');
  if (!issued.ok) throw new Error(`no key issued: ${JSON.stringify(issued)}`);
  const headers = { authorization: `Bearer ${issued.value.apiKey}` };

  const projectStarted = performance.now();
  const projector = new Projector({
    pool,
    databaseUrl: db.url,
    store,
    projections: allProjections,
    logger: createLogger('bench-projector', { level: 'warn' }),
    batchSize: Number(flags.batch),
  });
  projector.start();
  await waitForCheckpoints(pool, allProjections, (await store.headPosition()) as string, 3_600_000);
  await projector.stop();
  await store.close();
  const projectedSeconds = (performance.now() - projectStarted) / 1000;
  await pool.query('VACUUM ANALYZE');
  const counts = (
    await pool.query(
      'SELECT (SELECT count(*) FROM conversations)::int AS conversations, (SELECT count(*) FROM messages)::int AS messages',
    )
  ).rows[0] as { conversations: number; messages: number };
  log(`${events}: projected in ${round2(projectedSeconds)} s; read model ${JSON.stringify(counts)}`);

  // The routes' parameters come from the API itself: the newest conversation, its contact, its messages.
  const first = await waitForKey(`${base}/api/conversations?limit=1`, headers);
  const newest = first.items[0];
  if (!newest) throw new Error('the conversations page is empty');
  const contact = newest.participants.find((p) => !['+15550000001', 'support@hatch.dev'].includes(p)) ?? '';
  const paths: Record<string, string> = {
    page: '/api/conversations?limit=50',
    participant: `/api/conversations?participant=${encodeURIComponent(contact)}&limit=50`,
    messages: `/api/conversations/${newest.id}/messages?limit=50`,
  };
  const load = (path: string, seconds: number) =>
    autocannon({ url: `${base}${path}`, headers, connections: Number(flags.connections), duration: seconds });
  const routes: Record<string, RouteResult> = {};
  for (const name of routeNames) {
    const path = paths[name];
    if (!path) throw new Error(`unknown route ${name} (page, participant, messages)`);
    if (Number(flags.warmup) > 0) await load(path, Number(flags.warmup));
    const cpuBefore = server.cpuMs();
    const result = await load(path, Number(flags.seconds));
    const ok = result['2xx'];
    routes[name] = {
      path,
      requestsPerSec: Math.round(ok / Number(flags.seconds)),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      serverCpuUsPerRequest: Math.round(((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, ok)),
      errors: result.errors + result.timeouts + result.non2xx,
    };
    log(`${events}: ${name} ${JSON.stringify(routes[name])}`);
  }
  await reportStatements(db.url, 'query', 8);
  await server.stop();
  return {
    events: generated.events,
    conversations: counts.conversations,
    messages: counts.messages,
    generateSeconds: round2(generatedSeconds),
    projectSeconds: round2(projectedSeconds),
    routes,
  };
}

interface ConversationPage {
  items: { id: string; participants: string[] }[];
}

/** The first page once the new key is live (the account directory's view trails the log by ≤ 500 ms). */
async function waitForKey(url: string, headers: Record<string, string>): Promise<ConversationPage> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const response = await fetch(url, { headers });
    if (response.ok) return (await response.json()) as ConversationPage;
    if (response.status !== 401 || Date.now() > deadline) throw new Error(`${url} answered ${response.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const results = [];
for (const size of sizes) results.push(await measureSize(size));
await pool.end();
await db.stop();
const largest = results.at(-1);
const smallest = results[0];
const page = largest?.routes.page;
printResult({
  scenario: 'query',
  // The 50-item conversation page at the largest size (the issue's target), then every size and route.
  requestsPerSec: page?.requestsPerSec ?? 0,
  p50Ms: page?.p50Ms ?? 0,
  p99Ms: page?.p99Ms ?? 0,
  serverCpuUsPerRequest: page?.serverCpuUsPerRequest ?? 0,
  errors: results.reduce((n, r) => n + Object.values(r.routes).reduce((m, route) => m + route.errors, 0), 0),
  // Page requests/s at the largest size over the smallest's (1 = flat; the target is within 20%).
  pageLargestOverSmallest:
    page && smallest?.routes.page
      ? round2(page.requestsPerSec / Math.max(1, smallest.routes.page.requestsPerSec))
      : null,
  connections: Number(flags.connections),
  seconds: Number(flags.seconds),
  sizes: results,
});
process.exit(0);
