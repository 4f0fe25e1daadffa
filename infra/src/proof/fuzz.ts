// bin/fuzz: schemathesis (property-based, from the published OpenAPI document) against the whole stack.
// Every request goes through a recording proxy that stamps it with its own X-Request-Id. The command API
// copies that id into the appended event's `metadata.correlationId` (the dispatcher carries it onto the
// outcomes it appends), so after the run every new event in the log names the request that caused it:
// an event whose request was answered 4xx is an append from a rejected request. Receipts from the mock
// providers are switched off so that every append comes through the proxy. Requests carry an account's
// key (`Authorization: Bearer`): HATCH_API_KEY, else an account made for the run with bin/hatch, owning the
// document's example senders so generated sends from them are accepted. After the generated requests come
// the hand-made hostile classes (fuzz-hostile.ts), and at the end nothing may sit in projection_quarantine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../embedded-postgres.ts';
import { sendHostileRequests } from './fuzz-hostile.ts';
import { startScratchStack } from './scratch-stack.ts';

interface Recorded {
  method: string;
  route: string;
  status: number;
}

export interface FuzzResult {
  scenario: 'fuzz';
  requests: number;
  serverErrors: number;
  schemaViolations: number;
  appendsFromRejected: number;
  problemViolations: number;
  unattributedAppends: number;
  accepted: number;
  rejected: number;
  eventsAppended: number;
  /** Hand-made hostile requests (extreme instants, maximal lengths, huge numbers, NUL bytes) among them. */
  hostile: number;
  /** Events a projection had to quarantine: the edge should have refused every unstorable value. */
  quarantined: number;
  seconds: number;
}

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
};

/** The senders the OpenAPI document's examples send from (payloads.ts). */
const exampleSenders = ['+12016661234', '@usehatchapp.com'];

/** An account for the run, made with the operator command; its key from the JSON last line. */
function createFuzzAccount(databaseUrl: string): string {
  const attempt = (senders: string[]) =>
    spawnSync('bin/hatch', ['accounts', 'create', `fuzz-${Date.now()}`, ...senders.flatMap((s) => ['--sender', s])], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    });
  // On a shared stack another account may own the example senders already: then an account without them.
  let run = attempt(exampleSenders);
  if (run.status !== 0) run = attempt([]);
  if (run.status !== 0) throw new Error(`bin/hatch accounts create failed: ${run.stderr}`);
  const created = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { apiKey?: unknown };
  if (typeof created.apiKey !== 'string') throw new Error(`bin/hatch printed no apiKey: ${run.stdout}`);
  return created.apiKey;
}

const routeMatcher = (paths: string[]) => {
  const compiled = paths.map((p) => ({ p, re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  return (path: string) => compiled.find((c) => c.re.test(path))?.p ?? 'other';
};

/** A 4xx answer must be problem+json naming what was wrong (a non-empty `detail`, the same `status`). */
function problemIsDescriptive(status: number, headers: IncomingHttpHeaders, body: Buffer): boolean {
  if (!String(headers['content-type'] ?? '').startsWith('application/problem+json')) return false;
  try {
    const problem = JSON.parse(body.toString('utf8')) as { title?: unknown; detail?: unknown; status?: unknown };
    return (
      typeof problem.title === 'string' &&
      typeof problem.detail === 'string' &&
      problem.detail.length > 0 &&
      problem.status === status
    );
  } catch {
    return false;
  }
}

async function main() {
  const wanted = Number(arg('requests', '10000'));
  const schemathesis = process.env.SCHEMATHESIS_BIN ?? 'schemathesis';
  const reportDir = arg('report-dir', join(process.cwd(), '.tmp', 'fuzz'));
  mkdirSync(reportDir, { recursive: true });
  const started = Date.now();
  const say = (line: string) => process.stderr.write(`${line}\n`);

  let target = process.env.HATCH_API_URL;
  let databaseUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!target) {
    say('starting the stack on a scratch data folder…');
    const stack = await startScratchStack({
      env: { RECEIPTS_ENABLED: 'false', LOG_LEVEL: 'warn' },
      // The supervisor's own lines: a service that exits early says so ("… exited unexpectedly").
      log: (line) => process.stderr.write(`[stack] ${line}\n`),
      // Service errors go to stderr so a failing run shows why.
      output: (service, chunk) => {
        for (const line of chunk.split('\n'))
          if (line.includes('"level":50')) process.stderr.write(`[${service}] ${line}\n`);
      },
    });
    target = stack.apiUrl;
    databaseUrl = stack.databaseUrl;
    stop = stack.stop;
  } else if (!databaseUrl) {
    throw new Error('with HATCH_API_URL, DATABASE_URL must name its database (to count appended events)');
  }
  const upstream = new URL(target);
  // Before the head is read: the account's own events are not the run's appends.
  const apiKey = process.env.HATCH_API_KEY || createFuzzAccount(databaseUrl as string);
  const db = new pg.Client({ connectionString: databaseUrl });
  // Without a listener a server shutdown mid-run (the stack stopping because a service died) would crash
  // this process with an unhandled 'error' instead of a failed run that says why.
  db.on('error', (error) => {
    process.stderr.write(`fuzz: lost the database connection: ${error.message}\n`);
    process.exitCode = 1;
  });
  await db.connect();

  const doc = (await (await fetch(`${target}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  const routeOf = routeMatcher(Object.keys(doc.paths));
  const { rows: headRows } = await db.query<{ head: string }>(
    'SELECT coalesce(max(position), 0)::text AS head FROM events',
  );
  const headBefore = headRows[0]?.head ?? '0';

  const recorded = new Map<string, Recorded>();
  let sequence = 0;
  let serverErrors = 0;
  let problemViolations = 0;
  const problemExamples: string[] = [];
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const counted = path !== '/openapi.json';
      const id = `fuzz-${++sequence}`;
      const headers = { ...req.headers, host: upstream.host, 'x-request-id': id };
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const status = answer.statusCode ?? 0;
            const payload = Buffer.concat(body);
            if (counted) {
              recorded.set(id, { method: req.method ?? '', route: routeOf(path), status });
              if (status >= 500) {
                serverErrors++;
                say(`server error: ${req.method} ${path} ${status} ${payload.toString('utf8').slice(0, 300)}`);
                say(`  request: ${Buffer.concat(chunks).toString('utf8').slice(0, 600)}`);
              }
              if (status >= 400 && status < 500 && !problemIsDescriptive(status, answer.headers, payload)) {
                problemViolations++;
                if (problemExamples.length < 5)
                  problemExamples.push(`${req.method} ${path} ${status} ${payload.toString('utf8').slice(0, 200)}`);
              }
            }
            const { 'transfer-encoding': _te, connection: _c, ...rest } = answer.headers;
            res.writeHead(status, { ...rest, 'content-length': payload.length });
            res.end(payload);
          });
        },
      );
      forward.on('error', (error) => {
        if (counted) {
          serverErrors++;
          recorded.set(id, { method: req.method ?? '', route: routeOf(path), status: 502 });
        }
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  const proxyPort = await freePort();
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', () => r()));
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;

  // Checks of the published contract; the problem+json and log checks are the proxy's own.
  const checks = [
    'not_a_server_error',
    'status_code_conformance',
    'content_type_conformance',
    'response_schema_conformance',
    'response_headers_conformance',
    'negative_data_rejection',
  ].join(',');
  let schemaViolations = 0;
  let run = 0;
  let maxExamples = Math.max(5, Math.min(200, Math.round(wanted / 200)));
  while (recorded.size < wanted) {
    run++;
    const before = recorded.size;
    const junit = join(reportDir, `junit-${run}.xml`);
    // The first run takes every phase (examples, coverage: boundary and negative values); later runs
    // draw new random cases (fuzzing, stateful links) with another seed until the budget is spent.
    const phases = run === 1 ? 'examples,coverage,fuzzing,stateful' : 'fuzzing,stateful';
    const argv = [
      'run',
      `${proxyUrl}/openapi.json`,
      '--url',
      proxyUrl,
      '--phases',
      phases,
      '--mode',
      'all',
      '--checks',
      checks,
      '--max-examples',
      String(maxExamples),
      '--seed',
      String(Number(arg('seed', '1')) * 1000 + run),
      '--workers',
      arg('workers', '2'),
      '--no-shrink',
      '--continue-on-failure',
      '--suppress-health-check',
      'all',
      '--warnings',
      'off',
      '--request-timeout',
      '10',
      '--header',
      `Authorization: Bearer ${apiKey}`,
      // Server-sent event streams never end; their contract is covered by the query API's own tests.
      '--exclude-path-regex',
      '/stream$',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
    ];
    const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn(schemathesis, argv, { cwd: reportDir, env: { ...process.env, NO_COLOR: '1' } });
      let text = '';
      child.stdout.on('data', (d) => {
        text += String(d);
      });
      child.stderr.on('data', (d) => {
        text += String(d);
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, text }));
    });
    const failures = [
      ...readFileSync(junit, 'utf8').matchAll(/<testsuite\b[^>]*\bfailures="(\d+)"[^>]*\berrors="(\d+)"/g),
    ]
      .map((m) => Number(m[1]) + Number(m[2]))
      .reduce((a, b) => a + b, 0);
    schemaViolations += failures;
    const made = recorded.size - before;
    say(`run ${run} (${phases}, ${maxExamples} examples per operation): ${made} requests, ${failures} failures`);
    if (failures > 0 || (output.code !== 0 && output.code !== 1)) say(output.text.slice(-6000));
    if (made === 0) throw new Error(`schemathesis made no requests:\n${output.text.slice(-3000)}`);
    const perExample = made / maxExamples;
    maxExamples = Math.max(5, Math.min(1000, Math.ceil((wanted - recorded.size) / perExample)));
  }

  // The hand-made classes, checked by the same proxy.
  const hostileBefore = recorded.size;
  const hostile = await sendHostileRequests(proxyUrl);
  for (const [kind, statuses] of hostile)
    say(`hostile ${kind}: ${statuses.length} requests, statuses ${[...new Set(statuses)].sort().join(' ')}`);
  const hostileCount = recorded.size - hostileBefore;

  // Every event appended since the start must come from a request answered 2xx.
  await new Promise((r) => setTimeout(r, 1000)); // let the dispatcher append the outcomes of the last sends
  const { rows } = await db.query<{ correlation: string | null }>(
    `SELECT metadata->>'correlationId' AS correlation FROM events WHERE position > $1`,
    [headBefore],
  );
  let appendsFromRejected = 0;
  let unattributedAppends = 0;
  const byClass = new Map<string, { requests: number; appends: number }>();
  for (const r of recorded.values()) {
    const key = `${r.method} ${r.route} ${r.status}`;
    const entry = byClass.get(key) ?? { requests: 0, appends: 0 };
    entry.requests++;
    byClass.set(key, entry);
  }
  for (const { correlation } of rows) {
    const source = correlation ? recorded.get(correlation) : undefined;
    if (!source) {
      unattributedAppends++;
      continue;
    }
    const entry = byClass.get(`${source.method} ${source.route} ${source.status}`);
    if (entry) entry.appends++;
    if (source.status < 200 || source.status >= 300) appendsFromRejected++;
  }
  const accepted = [...recorded.values()].filter((r) => r.status >= 200 && r.status < 300).length;
  say('request class                                           requests  events appended');
  for (const [key, { requests, appends }] of [...byClass].sort()) {
    say(`${key.padEnd(56)}${String(requests).padStart(8)}  ${String(appends).padStart(8)}`);
  }
  if (problemExamples.length) say(`4xx answers that are not descriptive problem+json:\n${problemExamples.join('\n')}`);

  // Let the projector catch up, then nothing may sit in quarantine.
  await new Promise((r) => setTimeout(r, 2000));
  const quarantine = await db
    .query<{ n: number }>('SELECT count(*)::int AS n FROM projection_quarantine')
    .catch(() => ({ rows: [{ n: -1 }] }));
  const quarantined = quarantine.rows[0]?.n ?? -1;
  proxy.close();
  await db.end();
  await stop();
  const result: FuzzResult = {
    scenario: 'fuzz',
    requests: recorded.size,
    serverErrors,
    schemaViolations,
    appendsFromRejected,
    problemViolations,
    unattributedAppends,
    accepted,
    rejected: recorded.size - accepted,
    eventsAppended: rows.length,
    hostile: hostileCount,
    quarantined,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const ok =
    serverErrors === 0 &&
    schemaViolations === 0 &&
    appendsFromRejected === 0 &&
    problemViolations === 0 &&
    unattributedAppends === 0 &&
    quarantined === 0;
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`fuzz failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(3);
});
