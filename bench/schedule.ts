// bin/bench schedule: how many due scheduled sends per second the dispatcher fires on time. Appends
// `rate × seconds` MessageRequested with send_at spread evenly over a window that starts `lead` seconds
// ahead (all appended before the first is due), with the dispatcher and mock providers running, then
// measures per message: lateness = MessageDispatchStarted.startedAt − sendAt (the moment it was taken) and
// MessageSent.sentAt − sendAt. On time = taken within 1 s of due.

import { phone, requestMessages, sleep, startDispatcher, startMockProviders } from '@hatch/testing/processes';
import pg from 'pg';
import {
  benchDatabase,
  benchEventStore,
  parseFlags,
  percentile,
  printResult,
  processCpuMs,
  reportStatements,
  round2,
} from './harness.ts';

const flags = parseFlags(process.argv.slice(2), { rate: '1000', seconds: '10', lead: '15', drain: '30' });
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const lead = Number(flags.lead);
const total = rate * seconds;

const db = await benchDatabase();
const providers = await startMockProviders();
const dispatcher = await startDispatcher(db.url, providers, {
  LOG_LEVEL: 'warn',
  PROVIDER_TIMEOUT_MS: '10000',
  DISPATCH_LEASE_MS: '30000',
  DISPATCH_POLL_MS: '200',
});
const store = benchEventStore(db.url);
const sql = new pg.Client({ connectionString: db.url });
await sql.connect();

const firstDue = Date.now() + lead * 1000;
process.stderr.write(`[schedule] ${total} sends due at ${rate}/s over ${seconds}s, first in ${lead}s\n`);
const dueOf = new Map<string, number>();
const chunk = 500;
for (let i = 0; i < total; i += chunk) {
  await Promise.all(
    Array.from({ length: Math.min(chunk, total - i) }, async (_, j) => {
      const n = i + j;
      const due = firstDue + Math.floor((n / rate) * 1000);
      const [id] = await requestMessages(
        store,
        [{ channel: n % 4 === 3 ? 'email' : 'sms', to: n % 4 === 3 ? `c${n % 1000}@example.com` : phone(n % 1000) }],
        {
          sendAt: new Date(due).toISOString(),
        },
      );
      dueOf.set(id as string, due);
    }),
  );
}
const appendedBy = Date.now();
process.stderr.write(`[schedule] appended in ${appendedBy - (firstDue - lead * 1000)} ms\n`);
if (appendedBy > firstDue)
  process.stderr.write(`[schedule] warning: appends ran ${appendedBy - firstDue} ms past the first due time\n`);

// The dispatcher's CPU from the first due time on: the cost per send whatever else shares the machine.
await sleep(Math.max(0, firstDue - Date.now()));
const cpuAtFirstDue = processCpuMs(dispatcher.process.pid);
const until = firstDue + seconds * 1000 + Number(flags.drain) * 1000;
let sent = 0;
while (Date.now() < until) {
  await sleep(1000);
  // The schedule's rows beside the sent count: a schedule projection lagging behind the appends shows here.
  const { rows } = await sql.query<{ n: number; rows: number; leased: number }>(
    `SELECT (SELECT count(*)::int FROM events WHERE event_type = 'MessageSent') AS n,
            (SELECT count(*)::int FROM dispatch_schedule) AS rows,
            (SELECT count(*)::int FROM dispatch_schedule WHERE lease_until IS NOT NULL) AS leased`,
  );
  sent = rows[0]?.n ?? 0;
  process.stderr.write(
    `[schedule] ${Math.round((Date.now() - firstDue) / 100) / 10}s: sent ${sent}/${total}, schedule rows ${rows[0]?.rows} (${rows[0]?.leased} leased)\n`,
  );
  if (sent >= total && Date.now() > firstDue + seconds * 1000) break;
}

const dispatcherCpuMs = processCpuMs(dispatcher.process.pid) - cpuAtFirstDue;
const { rows } = await sql.query<{ id: string; type: string; at: string }>(
  `SELECT substr(stream_id, 9) AS id, event_type AS type,
          coalesce(data->>'startedAt', data->>'sentAt') AS at
     FROM events WHERE event_type IN ('MessageDispatchStarted', 'MessageSent')`,
);
const taken: number[] = [];
const sentLate: number[] = [];
for (const r of rows) {
  const due = dueOf.get(r.id);
  if (due === undefined) continue;
  (r.type === 'MessageDispatchStarted' ? taken : sentLate).push(Date.parse(r.at) - due);
}
taken.sort((a, b) => a - b);
sentLate.sort((a, b) => a - b);
const onTime = taken.filter((ms) => ms <= 1000).length;
const early = taken.filter((ms) => ms < 0).length;

await sql.end();
await reportStatements(db.url, 'schedule', 10);
await store.close();
await dispatcher.process.stop();
await providers.process.stop();
await db.stop();
printResult({
  scenario: 'schedule',
  offeredDuePerSec: rate,
  seconds,
  scheduled: total,
  taken: taken.length,
  sent: sentLate.length,
  early,
  onTime,
  onTimeShare: round2(onTime / total),
  onTimePerSec: round2(onTime / seconds),
  takenP50Ms: percentile(taken, 50),
  takenP99Ms: percentile(taken, 99),
  takenMaxMs: taken.at(-1) ?? null,
  sentP50Ms: percentile(sentLate, 50),
  sentP99Ms: percentile(sentLate, 99),
  dispatcherCpuMsPerSend: sentLate.length ? round2(dispatcherCpuMs / sentLate.length) : null,
});
process.exit(0);
