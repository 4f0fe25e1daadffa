// bin/bench append: W concurrent writers, each appending ONE event to a brand-new stream
// (expected version no_stream), durable commits (fsync on), through the PostgresEventStore port
// with group commit. Same workload as ../shared/peers (Emmett, raw pg).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  benchDatabase,
  benchEventStore,
  closedLoop,
  parseFlags,
  printResult,
  reportStatements,
  round2,
} from './harness.ts';

const flags = parseFlags(process.argv.slice(2), { writers: '64', seconds: '20', warmup: '3', connections: '1' });
const db = await benchDatabase();
const store = benchEventStore(db.url, { appendConnections: Number(flags.connections) });
const info = new pg.Client({ connectionString: db.url });
await info.connect();
const { rows } = await info.query(
  `SELECT current_setting('server_version') AS v, current_setting('fsync') AS f, current_setting('synchronous_commit') AS s`,
);
process.stderr.write(`PostgreSQL ${rows[0].v}: fsync=${rows[0].f} synchronous_commit=${rows[0].s}\n`);
const commitsBefore = await info.query(
  'SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
);
const payload = { amount: 42, note: 'x'.repeat(64) };
const writers = Number(flags.writers);
const result = await closedLoop({
  label: `append w=${writers}`,
  workers: writers,
  seconds: Number(flags.seconds),
  warmup: Number(flags.warmup),
  once: (w, seq) =>
    store.append(
      `bench-${randomUUID()}`,
      [
        {
          id: randomUUID(),
          type: 'BenchAppended',
          data: { w, seq, ...payload },
          metadata: { correlationId: randomUUID(), causationId: null, actor: 'bench', schemaVersion: 1 },
        },
      ],
      'no_stream',
    ),
});
const commitsAfter = await info.query(
  'SELECT xact_commit::bigint AS n, (SELECT count(*) FROM events)::bigint AS events FROM pg_stat_database WHERE datname = current_database()',
);
const commits = Number(commitsAfter.rows[0].n) - Number(commitsBefore.rows[0].n);
process.stderr.write(
  `[append] ${result.count} appends in window, ${commitsAfter.rows[0].events} events in log, ~${round2(Number(commitsAfter.rows[0].events) / Math.max(1, commits))} events/commit, max ${result.maxMs} ms, errors ${result.errors}\n`,
);
await info.end();
await reportStatements(db.url, 'append');
await store.close();
await db.stop();
printResult({
  scenario: 'append',
  store: 'hatch-postgres',
  eventsPerSec: Math.round(result.perSec),
  p50Ms: result.p50Ms,
  p99Ms: result.p99Ms,
  writers,
  seconds: Number(flags.seconds),
  errors: result.errors,
});
process.exit(0);
