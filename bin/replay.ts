// bin/replay: audit rebuilds of the read model from the event log.
//   bin/replay --schema audit_nov --until-time 2026-11-01T00:00:00Z    rebuild all projections as of a time
//   bin/replay --projection messages --schema audit_x --until-position <pos>
//   bin/replay --verify                                                rebuild into a scratch schema, diff with live
//   bin/replay --quarantined                                           list the events projections quarantined
//   bin/replay --retry-quarantined                                     apply them again (after a fix)
// Progress (rate, ETA) goes to stderr; the summary to stdout. Exit 1 on drift, 2 on bad arguments.
// The log is the one EVENT_STORE selects (as in every service); the rebuilt tables go to DATABASE_URL, else
// to the default run's embedded database when bin/start.sh is running it (this tool never starts one).
import { parseArgs } from 'node:util';
import { eventStoreConfigSchema, missingDatabaseUrl, openEventStore, PostgresEventStore } from '@hatch/event-store';
import { findLocalDatabase } from '@hatch/infra';
import {
  allProjections,
  assertIdentifier,
  createAuditTables,
  createReadPool,
  listQuarantine,
  projectionsByName,
  rebuildInto,
  retryQuarantined,
  summarizeTable,
  verifyProjections,
} from '@hatch/projections';
import pg from 'pg';

const usage = `usage: bin/replay [--projection NAME]... (--schema SCHEMA [--until-position POS | --until-time ISO] | --verify [--schema SCRATCH] | --quarantined | --retry-quarantined)
  projections: ${allProjections.map((p) => p.name).join(', ')} (default: all)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      projection: { type: 'string', multiple: true },
      schema: { type: 'string' },
      'until-position': { type: 'string' },
      'until-time': { type: 'string' },
      verify: { type: 'boolean', default: false },
      quarantined: { type: 'boolean', default: false },
      'retry-quarantined': { type: 'boolean', default: false },
      batch: { type: 'string', default: '20000' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values } = args;
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const projections = values.projection?.length ? projectionsByName(values.projection) : [...allProjections];
const untilTime = values['until-time'];
if (untilTime !== undefined && Number.isNaN(Date.parse(untilTime))) fail(`--until-time: not a timestamp: ${untilTime}`);
if (values.verify && (untilTime || values['until-position']))
  fail('--verify compares with the live tables: it rebuilds to their position, not to a chosen one');
const quarantineMode = values.quarantined || values['retry-quarantined'];
const schema =
  values.schema ?? (values.verify ? `replay_verify_${process.pid}` : quarantineMode ? 'public' : undefined);
if (!schema) fail('--schema is required (the live tables in public are never rebuilt in place)');
try {
  assertIdentifier(schema);
} catch {
  fail(`--schema: use a lower-case identifier, e.g. audit_nov (got ${schema})`);
}
if (schema === 'public' && !quarantineMode) fail('--schema public would overwrite the live tables');

const databaseUrl = await findLocalDatabase();
if (!databaseUrl) {
  process.stderr.write(`${missingDatabaseUrl}, and the default run's database is not running\n`);
  process.exit(2);
}
const storeConfig = eventStoreConfigSchema.safeParse({ ...process.env, DATABASE_URL: databaseUrl });
if (!storeConfig.success) fail(storeConfig.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
const store = await openEventStore(storeConfig.data, { tuning: { readConnections: 2 } }).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
// Checksums of whole tables outlast the read pool's default statement timeout.
const readPool = await createReadPool(databaseUrl, { maximumPoolSize: 2, statementTimeout: 'DISABLE_TIMEOUT' });

// Progress bar with rate and ETA on stderr (ETA only where the adapter can count the log).
const totalEvents = store instanceof PostgresEventStore ? await store.countEvents() : null;
const started = performance.now();
let lastDraw = 0;
function progress({ events }: { events: number }) {
  const now = performance.now();
  if (now - lastDraw < 1000 && (totalEvents === null || events < totalEvents)) return;
  lastDraw = now;
  const seconds = (now - started) / 1000;
  const rate = events / Math.max(seconds, 0.001);
  if (totalEvents === null) {
    const line = `${events.toLocaleString('en-US')} events, ${Math.round(rate).toLocaleString('en-US')}/s`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    return;
  }
  const share = totalEvents ? Math.min(1, events / totalEvents) : 1;
  const width = 30;
  const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
  const eta = rate > 0 ? Math.max(0, Math.round((totalEvents - events) / rate)) : 0;
  const line = `[${bar}] ${(share * 100).toFixed(1)}% ${events.toLocaleString('en-US')}/${totalEvents.toLocaleString('en-US')} events, ${Math.round(rate).toLocaleString('en-US')}/s, ETA ${eta}s`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
}

/** One line per quarantined event: where, what, which projection refused it and why. */
function printQuarantine(rows: Awaited<ReturnType<typeof listQuarantine>>) {
  for (const q of rows)
    process.stdout.write(
      `quarantined ${q.position} ${q.projection.padEnd(15)} ${q.eventType} ${q.eventId} (${q.streamId}): ${q.sqlstate ? `[${q.sqlstate}] ` : ''}${q.error}\n`,
    );
}

let exitCode = 0;
try {
  if (values.quarantined) {
    const rows = await listQuarantine(client);
    printQuarantine(rows);
    process.stdout.write(`${rows.length} quarantined event(s) open\n`);
  } else if (values['retry-quarantined']) {
    const outcomes = await retryQuarantined({ store, db: client, projections });
    for (const o of outcomes)
      process.stdout.write(
        `${o.result.padEnd(8)} ${o.entry.position} ${o.entry.projection} ${o.entry.eventType} ${o.entry.eventId}${o.error ? `: ${o.error}` : ''}\n`,
      );
    const open = outcomes.filter((o) => o.result !== 'resolved').length;
    process.stdout.write(`${outcomes.length - open} resolved, ${open} still quarantined\n`);
    if (open > 0) exitCode = 1;
  } else if (values.verify) {
    const results = await verifyProjections({
      store,
      db: client,
      readPool,
      projections,
      scratchSchema: schema,
      batchSize: Number(values.batch),
      onProgress: progress,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    for (const result of results) {
      process.stdout.write(`verified at log position ${result.position ?? '(empty log)'}\n`);
      for (const t of result.tables) {
        process.stdout.write(
          `${t.equal ? 'ok   ' : 'DRIFT'} ${t.table.padEnd(26)} live ${String(t.live.rows).padStart(9)} rows ${t.live.checksum}  rebuilt ${String(t.rebuilt.rows).padStart(9)} rows ${t.rebuilt.checksum}\n`,
        );
        for (const row of t.onlyLive) process.stdout.write(`      only live:    ${row}\n`);
        for (const row of t.onlyRebuilt) process.stdout.write(`      only rebuilt: ${row}\n`);
      }
      if (result.drift) exitCode = 1;
    }
    process.stdout.write(exitCode ? 'drift: the live read model differs from a rebuild of the log\n' : 'no drift\n');
    // The rebuild leaves quarantined events out as the projector did; say which, so drift is not hidden.
    printQuarantine(await listQuarantine(client));
  } else {
    await createAuditTables(client, projections, schema);
    const result = await rebuildInto({
      store,
      db: client,
      projections,
      schema,
      untilPosition: values['until-position'] ?? null,
      untilTime: untilTime ?? null,
      batchSize: Number(values.batch),
      onProgress: progress,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(
      `rebuilt ${projections.map((p) => p.name).join(', ')} into schema ${schema} from ${result.events} events (last read ${result.position ?? 'none'})\n`,
    );
    for (const table of projections.flatMap((p) => p.tables)) {
      const summary = await summarizeTable(readPool, schema, table);
      process.stdout.write(
        `  ${schema}.${table.padEnd(26)} ${String(summary.rows).padStart(9)} rows ${summary.checksum}\n`,
      );
    }
  }
} catch (error) {
  process.stderr.write(`replay failed: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 3;
}
await client.end();
await readPool.end();
await store.close();
process.exit(exitCode);
