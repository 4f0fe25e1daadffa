// bin/bench project-lag: projection lag under live load. W writers append message lifecycles event by
// event through the PostgresEventStore port (group commit, like the command API and dispatcher do) while
// the projector runs; the lag of an event is the time from its append being acknowledged until every
// read-model projection's checkpoint has reached it (checkpoints sampled every 10 ms).
import { createLogger } from '@hatch/platform';
import { allProjections, checkpointId } from '@hatch/projections';
import { messageLifecycle } from '@hatch/projections/workload';
import { Projector } from '@hatch/projector';
import pg from 'pg';
import { benchDatabase, benchEventStore, parseFlags, percentile, printResult, round2 } from './harness.ts';

const flags = parseFlags(process.argv.slice(2), { writers: '64', seconds: '20', warmup: '3' });
const db = await benchDatabase();
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
pool.on('error', () => {});
const store = benchEventStore(db.url);
const projector = new Projector({
  pool,
  databaseUrl: db.url,
  store,
  projections: allProjections,
  logger: createLogger('bench-projector', { level: 'warn' }),
});
projector.start();

const pending: { position: string; at: number }[] = [];
const lags: number[] = [];
const started = performance.now();
const measureFrom = started + Number(flags.warmup) * 1000;
const end = measureFrom + Number(flags.seconds) * 1000;
let appended = 0;
let stop = false;
const ids = allProjections.map((p) => checkpointId(p.name));
const sampler = (async () => {
  while (!stop || pending.length > 0) {
    const { rows } = await pool.query<{ position: string | null; n: number }>(
      'SELECT min(position) AS position, count(*)::int AS n FROM subscription_checkpoints WHERE subscription_id = ANY($1)',
      [ids],
    );
    const now = performance.now();
    const mark = rows[0]?.n === ids.length ? rows[0].position : null;
    if (mark !== null) {
      let keep = 0;
      for (const p of pending) {
        if (p.position <= mark) {
          if (p.at >= measureFrom) lags.push(now - p.at);
        } else pending[keep++] = p;
      }
      pending.length = keep;
    }
    if (stop && now > end + 30_000) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
})();

let nextMessage = 0;
const ticker = setInterval(() => {
  process.stderr.write(
    `[project-lag] ${((performance.now() - started) / 1000).toFixed(0)}s appended ${appended}, waiting ${pending.length}, p99 so far ${round2(
      percentile(
        [...lags].sort((a, b) => a - b),
        99,
      ),
    )} ms\n`,
  );
}, 2000);
await Promise.all(
  Array.from({ length: Number(flags.writers) }, async () => {
    while (performance.now() < end) {
      const i = nextMessage++;
      const lifecycle = messageLifecycle(i, { messages: 1, contacts: 5000, seed: 'lag' }).sort(
        (a, b) => a.round - b.round,
      );
      for (const { append } of lifecycle) {
        if (performance.now() >= end) break;
        const result = await store.append(append.streamId, [append.event], 'any');
        pending.push({ position: result.position, at: performance.now() });
        if (performance.now() >= measureFrom) appended++;
      }
    }
  }),
);
stop = true;
await sampler;
clearInterval(ticker);
await projector.stop();
await store.close();
await pool.end();
await db.stop();
lags.sort((a, b) => a - b);
printResult({
  scenario: 'project-lag',
  appendsPerSec: Math.round(appended / Number(flags.seconds)),
  lagP50Ms: round2(percentile(lags, 50)),
  lagP99Ms: round2(percentile(lags, 99)),
  lagMaxMs: round2(lags.at(-1) ?? 0),
  writers: Number(flags.writers),
  seconds: Number(flags.seconds),
});
process.exit(0);
