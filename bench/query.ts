// bin/bench query: the conversations page (GET /api/conversations, 50 per page, with contact names) against
// a seeded read model. The query API runs as a child process (its real main) so autocannon does not share
// its event loop; reports requests/s, latency and the server's CPU per request (steadier than requests/s
// on a shared machine).
import { fileURLToPath } from 'node:url';
import { freePort } from '@hatch/infra';
import { createLogger } from '@hatch/platform';
import { allProjections } from '@hatch/projections';
import { appendWorkload, mixedWorkload } from '@hatch/projections/workload';
import { Projector, waitForCheckpoints } from '@hatch/projector';
import autocannon from 'autocannon';
import pg from 'pg';
import { benchDatabase, benchEventStore, parseFlags, printResult, startService } from './harness.ts';

const flags = parseFlags(process.argv.slice(2), {
  messages: '4000',
  contacts: '500',
  connections: '16',
  seconds: '15',
  warmup: '3',
  path: '/api/conversations?limit=50',
});
const log = (line: string) => process.stderr.write(`[query] ${line}\n`);
const db = await benchDatabase();

// Seed once per database: a log of mixed traffic, projected by the real projector.
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
const seeded = Number((await pool.query('SELECT count(*)::int AS n FROM conversations')).rows[0].n);
if (seeded === 0) {
  const store = benchEventStore(db.url, { readConnections: 2 });
  const started = performance.now();
  const head = await appendWorkload(
    store,
    mixedWorkload({ messages: Number(flags.messages), contacts: Number(flags.contacts), seed: 'bench-query' }),
  );
  const projector = new Projector({
    pool,
    databaseUrl: db.url,
    store,
    projections: allProjections,
    logger: createLogger('bench-projector', { level: 'warn' }),
  });
  projector.start();
  if (head) await waitForCheckpoints(pool, allProjections, head, 600_000);
  await projector.stop();
  await store.close();
  await pool.query('VACUUM ANALYZE');
  log(`seeded ${flags.messages} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const counts = (
  await pool.query(
    'SELECT (SELECT count(*) FROM conversations)::int AS conversations, (SELECT count(*) FROM messages)::int AS messages',
  )
).rows[0];
log(`read model: ${JSON.stringify(counts)}`);
await pool.end();

const port = await freePort();
const mainFile = fileURLToPath(new URL('../services/query-api/src/main.ts', import.meta.url));
const server = await startService({
  name: 'query API',
  mainFile,
  env: { DATABASE_URL: db.url, QUERY_API_PORT: String(port), LOG_LEVEL: 'warn' },
});
const base = `http://127.0.0.1:${port}`;
await server.waitReady(`${base}/ready`);
const probe = await fetch(`${base}${flags.path}`);
if (!probe.ok) throw new Error(`${flags.path} answered ${probe.status}`);

const load = (seconds: number) =>
  autocannon({ url: `${base}${flags.path}`, connections: Number(flags.connections), duration: seconds });
if (Number(flags.warmup) > 0) await load(Number(flags.warmup));
log(`measuring ${flags.seconds}s, ${flags.connections} connections on ${flags.path}`);
const cpuBefore = server.cpuMs();
const result = await load(Number(flags.seconds));
const serverCpu = server.cpuMs() - cpuBefore;
const ok = result['2xx'];
await server.stop();
await db.stop();
printResult({
  scenario: 'query',
  requestsPerSec: Math.round(ok / Number(flags.seconds)),
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  serverCpuUsPerRequest: Math.round((serverCpu * 1000) / Math.max(1, ok)),
  errors: result.errors + result.timeouts + result.non2xx,
  connections: Number(flags.connections),
  seconds: Number(flags.seconds),
});
process.exit(0);
