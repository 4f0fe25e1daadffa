// bin/bench project-lag: projection lag under live load. W writers append message lifecycles event by
// event through the PostgresEventStore port (group commit, like the command API and dispatcher do), paced
// to an offered --rate (appends/s; 0: as fast as they go), while the projector runs with the service's
// defaults; the lag of an event is the time from its append being acknowledged until every read-model
// projection's checkpoint has reached it (checkpoints sampled every 10 ms). --projector process (default)
// runs the projector service as its own process, as deployed; inline runs it in this one, beside the writers.

import { freePort } from '@hatch/infra';
import { serviceEntry, startServiceProcess } from '@hatch/infra/service-process';
import { createLogger } from '@hatch/platform';
import { allProjections, checkpointId } from '@hatch/projections';
import { messageLifecycle } from '@hatch/projections/workload';
import { Projector, projectorConfigSchema, waitForCheckpoints } from '@hatch/projector';
import pg from 'pg';
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
  writers: '64',
  seconds: '20',
  warmup: '3',
  rate: '5000',
  projector: 'process',
});
const db = await benchDatabase();
// one connection per projection (a catching-up batch applies them concurrently), one for the sampler
const pool = new pg.Pool({ connectionString: db.url, max: allProjections.length + 2 });
pool.on('error', () => {});
const store = benchEventStore(db.url);
const batches = { count: 0, events: 0, seconds: 0 };
const inline = flags.projector === 'inline';
if (!inline && flags.projector !== 'process') throw new RangeError('--projector must be process or inline');
const projectorPort = await freePort();
const projector = inline
  ? new Projector({
      pool,
      databaseUrl: db.url,
      store,
      projections: allProjections,
      logger: createLogger('bench-projector', { level: 'warn' }),
      batchSize: projectorConfigSchema.shape.PROJECTOR_BATCH_SIZE.parse(undefined),
      onBatch: (batch) => {
        batches.count++;
        batches.events += batch.events;
        batches.seconds += batch.seconds;
      },
    })
  : null;
const projectorProcess = inline
  ? null
  : startServiceProcess({
      entry: serviceEntry('projector'),
      env: { DATABASE_URL: db.url, PROJECTOR_PORT: String(projectorPort), LOG_LEVEL: 'warn' },
    });
projector?.start();
// The clock starts once the projector has applied a first event (a process takes seconds to start).
{
  const [first] = messageLifecycle(0, { messages: 1, contacts: 5000, seed: 'lag-warmup' });
  const warm = first ? await store.append(first.append.streamId, [first.append.event], 'any') : null;
  if (warm) await waitForCheckpoints(pool, allProjections, warm.position, 120_000);
}

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
// Pacing: the k-th append is due k/rate seconds after the start; a writer that is behind appends at once.
const rate = Number(flags.rate);
let nextAppend = 0;
async function paced() {
  if (rate <= 0) return;
  const due = started + (nextAppend++ * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
}
const ticker = setInterval(() => {
  process.stderr.write(
    `[project-lag] ${((performance.now() - started) / 1000).toFixed(0)}s appended ${appended}, waiting ${pending.length}, p99 so far ${round2(
      percentile(
        [...lags].sort((a, b) => a - b),
        99,
      ),
    )} ms${
      inline
        ? `; projector ${batches.count} batches, ${Math.round(batches.events / Math.max(1, batches.count))} events and ${round2(
            (batches.seconds * 1000) / Math.max(1, batches.count),
          )} ms each`
        : ''
    }\n`,
  );
  batches.count = 0;
  batches.events = 0;
  batches.seconds = 0;
}, 2000);
await Promise.all(
  Array.from({ length: Number(flags.writers) }, async () => {
    while (performance.now() < end) {
      const i = nextMessage++;
      const lifecycle = messageLifecycle(i, { messages: 1, contacts: 5000, seed: 'lag' }).sort(
        (a, b) => a.round - b.round,
      );
      for (const { append } of lifecycle) {
        await paced();
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
await projector?.stop();
if (projectorProcess) {
  // The service's own batch figures (hatch_projection_batch_seconds) for the whole run.
  const metrics = await fetch(`http://127.0.0.1:${projectorPort}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
  const count = metric('hatch_projection_batch_seconds_count');
  process.stderr.write(
    `[project-lag] projector process: ${count} batches, ${Math.round(metric('hatch_projection_events_total') / Math.max(1, count))} events and ${round2((metric('hatch_projection_batch_seconds_sum') * 1000) / Math.max(1, count))} ms each\n`,
  );
  await projectorProcess.stop();
}
await reportStatements(db.url, 'project-lag', 14);
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
  offeredPerSec: rate,
  writers: Number(flags.writers),
  seconds: Number(flags.seconds),
});
process.exit(0);
