// bin/bench project: a log of mixed message events (default 1,000,000: sends delivered / undelivered /
// retried / failed, inbound messages, duplicate and early receipts) bulk-inserted straight into the events
// table, then projected from scratch by the projector (same code as the service: batches, one
// transaction per batch with its checkpoints). Reports events/s of the projection only.
import { createLogger } from '@hatch/platform';
import { allProjections } from '@hatch/projections';
import { Projector, parallelModeSchema, waitForCheckpoints } from '@hatch/projector';
import pg from 'pg';
import {
  benchDatabase,
  benchEventStore,
  coresCeiling,
  parseFlags,
  printResult,
  reportStatements,
  round2,
} from './harness.ts';
import { generateMessageLog } from './message-log.ts';

// --parallel never|catching-up|always: when each projection applies in its own transaction on its own
// connection (ProjectorOptions.parallel; default catching-up, as the service runs).
const flags = parseFlags(process.argv.slice(2), {
  events: '1000000',
  batch: '20000',
  contacts: '20000',
  parallel: 'catching-up',
});
const target = Number(flags.events);
const db = await benchDatabase();
// one connection per projection, one for checkpoint reads
const pool = new pg.Pool({ connectionString: db.url, max: allProjections.length + 1 });
pool.on('error', () => {});
const log = (line: string) => process.stderr.write(`[project] ${line}\n`);

await pool.query(
  `TRUNCATE events, message_events, messages, conversation_participants, conversations, contacts, contact_addresses, contact_consents;
   DELETE FROM subscription_checkpoints WHERE subscription_id LIKE 'projection:%'`,
);

const generationStarted = performance.now();
const { events: generated, messages: nextMessage } = await generateMessageLog(pool, {
  events: target,
  contacts: Number(flags.contacts),
  progress: (n) => log(`generated ${n.toLocaleString('en-US')} events`),
});
// Settle the generation's writes (visibility map, statistics, dirty pages) so the measured part is the projection.
await pool.query('VACUUM ANALYZE events');
await pool.query('CHECKPOINT');
// BENCH_PG_STATEMENTS=1: count only the projection's statements, not the generation's.
if (process.env.BENCH_PG_STATEMENTS === '1')
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()');
log(
  `generated ${generated.toLocaleString('en-US')} events for ${nextMessage.toLocaleString('en-US')} messages in ${round2((performance.now() - generationStarted) / 1000)} s`,
);

const store = benchEventStore(db.url, { readConnections: 2 });
const head = (await store.headPosition()) as string;
// The projector runs in this process: its CPU and PostgreSQL's, per event, say which side bounds the rebuild.
const cpuBefore = process.cpuUsage();
const pgCpuBefore = db.cpuMs();
let applied = 0;
let lastReport = performance.now();
const started = performance.now();
const projector = new Projector({
  pool,
  databaseUrl: db.url,
  store,
  projections: allProjections,
  logger: createLogger('bench-projector', { level: 'warn' }),
  batchSize: Number(flags.batch),
  parallel: parallelModeSchema.parse(flags.parallel),
  onBatch: (batch) => {
    applied += batch.events;
    const now = performance.now();
    if (now - lastReport > 2000) {
      const rate = applied / ((now - started) / 1000);
      log(
        `${applied.toLocaleString('en-US')}/${generated.toLocaleString('en-US')} events, ${Math.round(rate)}/s, ETA ${Math.round((generated - applied) / rate)} s`,
      );
      lastReport = now;
    }
  },
});
projector.start();
await waitForCheckpoints(pool, allProjections, head, 3_600_000);
const seconds = (performance.now() - started) / 1000;
const cpuUsed = process.cpuUsage(cpuBefore);
const pgCpuAfter = db.cpuMs();
const perEvent = (ms: number) => round2((ms * 1000) / Math.max(1, generated));
const cpuPerEventUs = {
  projector: perEvent((cpuUsed.user + cpuUsed.system) / 1000),
  postgres: pgCpuAfter === null || pgCpuBefore === null ? null : perEvent(pgCpuAfter - pgCpuBefore),
};
await projector.stop();
const counts = await pool.query(
  `SELECT (SELECT count(*) FROM conversations) AS conversations, (SELECT count(*) FROM messages) AS messages,
          (SELECT count(*) FROM message_events) AS message_events`,
);
log(`read model: ${JSON.stringify(counts.rows[0])}`);
const machineUs = cpuPerEventUs.projector + (cpuPerEventUs.postgres ?? 0);
const ceiling = coresCeiling(machineUs);
log(
  `CPU per event: projector ${cpuPerEventUs.projector} µs, PostgreSQL ${cpuPerEventUs.postgres ?? '?'} µs: ${round2(machineUs)} µs in all, so ${ceiling.cores} cores cap a rebuild near ${ceiling.perSec} events/s`,
);
await reportStatements(db.url, 'project', 12);
await store.close();
await pool.end();
await db.stop();
printResult({
  scenario: 'project',
  eventsPerSec: Math.round(generated / seconds),
  seconds: round2(seconds),
  events: generated,
  cpuPerEventUs,
});
process.exit(0);
