// bin/soak: the whole stack on a scratch data folder under a steady mix of traffic (sends on all three
// channels, inbound webhooks, delivery receipts from the mock providers, duplicates and retries of all of
// them, provider faults 20% 500 / 10% 429) while the dispatcher, the projector, the command API and
// PostgreSQL itself are SIGKILLed at random moments and restarted. Then it checks what was promised:
// every 2xx has its event in the log, every accepted send ends Sent/Delivered/Failed, no message has two
// MessageSent, providers saw repeats only under the same idempotency key, and the read model equals a
// fresh rebuild (bin/replay --verify).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webhookHeaders } from '@hatch/platform';
import pg from 'pg';
import { startScratchStack } from './scratch-stack.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface SoakOptions {
  seconds: number;
  /** Requests per second the driver aims at (all workers together). */
  rate: number;
  /** Set WEBHOOK_SECRET and API_KEYS on the stack (log hygiene runs). */
  secure: boolean;
  /** Where every service's log lines go (appended). */
  logFile?: string;
  kills: boolean;
  /**
   * False: the mocks ignore Idempotency-Key as real Twilio and SendGrid do, and 3% of sends are taken but
   * never answered (ambiguous timeouts), so only the dispatcher's lookups keep a message from going out twice.
   */
  providerIdempotency?: boolean;
  say: (line: string) => void;
}

export interface SoakResult {
  scenario: 'soak';
  seconds: number;
  providerIdempotency: boolean;
  accepted: number;
  lost: number;
  stuck: number;
  doubleSent: number;
  kills: number;
  readModelDrift: number;
  requests: number;
  sends: number;
  inbound: number;
  duplicatesSent: number;
  retriedRequests: number;
  unexpectedRejections: number;
  idempotencyMismatches: number;
  providerDuplicates: number;
  providerRepeats: number;
  conflictingOutcomes: number;
  receiptWithoutSent: number;
  max503Ms: number;
  killsBy: Record<string, number>;
  rssMb: Record<string, { warm: number; end: number; restarted: boolean }>;
  /** What the hygiene test looks for in the logs. */
  secrets: { apiKey: string | null; webhookSecret: string | null; bodyMarker: string };
  addresses: string[];
}

// Short deadlines so that every message settles within the run.
const dispatcherEnv = {
  RETRY_DEADLINE_MS: '20000',
  RETRY_BASE_DELAY_MS: '200',
  RETRY_MAX_DELAY_MS: '2000',
  PROVIDER_TIMEOUT_MS: '3000',
  DISPATCH_LEASE_MS: '5000',
  BREAKER_COOLDOWN_MS: '1000',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const between = (min: number, max: number) => min + Math.random() * (max - min);

function rssKb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

const postgresRssKb = (pid: number | undefined): number => {
  if (!pid) return 0;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children].reduce((sum, p) => sum + rssKb(p), 0);
};

interface Request {
  kind: 'sms' | 'mms' | 'email' | 'inbound-sms' | 'inbound-email';
  path: string;
  payload: Record<string, unknown>;
  key?: string;
  /** The id of the first 2xx answer. */
  id?: string;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.say;
  const started = Date.now();
  const apiKey = options.secure ? `soak-api-key-${randomBytes(12).toString('hex')}` : null;
  const webhookSecret = options.secure ? `soak-webhook-secret-${randomBytes(12).toString('hex')}` : null;
  const bodyMarker = `soakbody${randomBytes(4).toString('hex')}`;
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  const unexpectedExits: string[] = [];

  say('starting the stack on a scratch data folder…');
  const stack = await startScratchStack({
    env: {
      ...dispatcherEnv,
      RECEIPT_DUPLICATE_RATE: '0.2',
      RECEIPT_OUT_OF_ORDER_RATE: '0.1',
      RECEIPT_OUT_OF_ORDER_DELAY_MS: '500',
      LOG_LEVEL: 'info',
      ...(webhookSecret ? { WEBHOOK_SECRET: webhookSecret } : {}),
      ...(apiKey ? { API_KEYS: `soak:${apiKey}` } : {}),
    },
    output: (_service, chunk) => log?.write(chunk),
    log: (line) => {
      if (line.includes('exited unexpectedly')) unexpectedExits.push(line);
    },
  });
  const api = stack.apiUrl;
  const providers = [
    stack.config.smsProviderPort,
    stack.config.emailProviderPort,
    stack.config.smsBackupProviderPort,
    stack.config.emailBackupProviderPort,
  ].map((p) => `http://127.0.0.1:${p}`);
  const setFaults = (faults: Record<string, number | boolean>) =>
    Promise.all(
      providers.map((p) =>
        fetch(`${p}/admin/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(faults),
        }),
      ),
    );
  const providerIdempotency = options.providerIdempotency ?? true;
  await setFaults({
    error500Rate: 0.2,
    error429Rate: 0.1,
    retryAfterSeconds: 1,
    ...(providerIdempotency ? {} : { idempotency: false, timeoutRate: 0.03 }),
  });

  const addresses = new Set<string>();
  const phone = (prefix: string) => {
    const n = `${prefix}${String(1000 + Math.floor(Math.random() * 9000))}`;
    addresses.add(n);
    return n;
  };
  const email = (local: string, domain: string) => {
    const a = `${local}${Math.floor(Math.random() * 100000)}@${domain}`;
    addresses.add(a);
    return a;
  };
  const body = () => `${bodyMarker} ${randomBytes(6).toString('hex')}`;
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  const fresh = (): Request => {
    const r = Math.random();
    const key = randomBytes(8).toString('hex');
    if (r < 0.25)
      return {
        kind: 'sms',
        path: '/api/messages/sms',
        key,
        payload: {
          from: phone('+1201666'),
          to: phone('+1804666'),
          type: 'sms',
          body: body(),
          attachments: null,
          timestamp: now(),
        },
      };
    if (r < 0.4)
      return {
        kind: 'mms',
        path: '/api/messages/sms',
        key,
        payload: {
          from: phone('+1201666'),
          to: phone('+1804666'),
          type: 'mms',
          body: body(),
          attachments: ['https://example.com/cat.jpg'],
          timestamp: now(),
        },
      };
    if (r < 0.65)
      return {
        kind: 'email',
        path: '/api/messages/email',
        key,
        payload: {
          from: email('user', 'usehatchapp.com'),
          to: email('contact', 'gmail.com'),
          body: `<p>${body()}</p>`,
          attachments: null,
          subject: 'soak',
          timestamp: now(),
        },
      };
    if (r < 0.85)
      return {
        kind: 'inbound-sms',
        path: '/api/webhooks/sms',
        payload: {
          from: phone('+1804666'),
          to: phone('+1201666'),
          type: 'sms',
          messaging_provider_id: `soak-${randomBytes(8).toString('hex')}`,
          body: body(),
          attachments: null,
          timestamp: now(),
        },
      };
    return {
      kind: 'inbound-email',
      path: '/api/webhooks/email',
      payload: {
        from: email('contact', 'gmail.com'),
        to: email('user', 'usehatchapp.com'),
        xillio_id: `soak-${randomBytes(8).toString('hex')}`,
        body: `<p>${body()}</p>`,
        attachments: null,
        timestamp: now(),
      },
    };
  };

  const counts = {
    requests: 0,
    retriedRequests: 0,
    unexpectedRejections: 0,
    idempotencyMismatches: 0,
    duplicatesSent: 0,
    max503Ms: 0,
  };
  const accepted: Request[] = [];
  let trafficEnds = Date.now() + options.seconds * 1000;
  const rejections: string[] = [];

  /** Posts until a definite answer; network errors, 5xx, 429 and 409 are retried with the same payload. */
  const deliver = async (request: Request): Promise<void> => {
    const raw = JSON.stringify(request.payload);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) counts.retriedRequests++;
      if (Date.now() > trafficEnds + 60_000) throw new Error(`no answer for ${request.path} a minute after the run`);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (request.key) headers['idempotency-key'] = request.key;
      if (apiKey && request.key) headers.authorization = `Bearer ${apiKey}`;
      if (webhookSecret && !request.key) Object.assign(headers, webhookHeaders(webhookSecret, raw));
      const sent = Date.now();
      let status = 0;
      let answer: { id?: string } = {};
      try {
        counts.requests++;
        const res = await fetch(`${api}${request.path}`, {
          method: 'POST',
          headers,
          body: raw,
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        answer = (await res.json().catch(() => ({}))) as { id?: string };
      } catch {
        status = 0;
      }
      if (status === 503) counts.max503Ms = Math.max(counts.max503Ms, Date.now() - sent);
      if (status >= 200 && status < 300) {
        if (request.id === undefined) {
          request.id = answer.id;
          accepted.push(request);
        } else if (request.id !== answer.id) counts.idempotencyMismatches++;
        return;
      }
      if (status >= 400 && status < 500 && status !== 429 && status !== 409) {
        counts.unexpectedRejections++;
        if (rejections.length < 5) rejections.push(`${request.path} ${status} ${JSON.stringify(answer)}`);
        return;
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) * Math.random() + 50);
    }
  };

  const workers = 8;
  const pauseMs = (workers * 1000) / options.rate;
  const worker = async () => {
    while (Date.now() < trafficEnds) {
      const t = Date.now();
      // A fifth of the traffic repeats an earlier request exactly (client retries, webhook re-deliveries).
      const earlier = accepted.length > 0 && Math.random() < 0.2 ? pick(accepted) : null;
      if (earlier) {
        counts.duplicatesSent++;
        await deliver({ ...earlier, id: earlier.id });
      } else await deliver(fresh());
      await sleep(Math.max(0, pauseMs - (Date.now() - t)));
    }
  };

  // Kills: one target at a time, SIGKILL, down for a moment, restart.
  const killsBy: Record<string, number> = { dispatcher: 0, projector: 0, 'command-api': 0, postgres: 0 };
  const restarted = new Set<string>();
  let rssWarm: Record<string, number> = {};
  const readRss = () => ({
    ...Object.fromEntries(stack.services.map((s) => [s, rssKb(stack.pid(s))])),
    postgres: postgresRssKb(stack.postgres?.pid()),
  });
  const warmUpMs = Math.min(30_000, (options.seconds * 1000) / 5);
  const killer = async () => {
    await sleep(warmUpMs);
    rssWarm = readRss();
    while (options.kills && Date.now() < trafficEnds - 5000) {
      const target = pick(Object.keys(killsBy));
      const t = Date.now();
      if (target === 'postgres') {
        await stack.postgres?.kill();
        await sleep(between(500, 3000));
        await stack.postgres?.restart();
      } else {
        await stack.kill(target);
        await sleep(between(200, 2000));
        await stack.restart(target);
      }
      restarted.add(target);
      killsBy[target] = (killsBy[target] ?? 0) + 1;
      say(`killed and restarted ${target} (${Date.now() - t} ms)`);
      await sleep(between(3000, 10_000));
    }
  };

  say(`driving traffic for ${options.seconds} s at ~${options.rate} requests/s${options.kills ? ' with kills' : ''}…`);
  const progress = setInterval(() => {
    say(
      `t=${Math.round((Date.now() - started) / 1000)} s: ${counts.requests} requests, ${accepted.length} accepted, ${counts.retriedRequests} retried`,
    );
  }, 15_000);
  const killing = killer();
  await Promise.all(Array.from({ length: workers }, worker));
  trafficEnds = Math.min(trafficEnds, Date.now());
  await killing;
  clearInterval(progress);
  if (unexpectedExits.length) throw new Error(`a service died on its own:\n${unexpectedExits.join('\n')}`);

  // Settle: faults off, then wait until every accepted send has an outcome (or the deadline has long passed).
  await setFaults({ error500Rate: 0, error429Rate: 0, timeoutRate: 0 });
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const sends = accepted.filter((r) => r.key);
  const inbound = accepted.filter((r) => !r.key);
  const outcomeOf = async () => {
    const { rows } = await db.query<{ stream_id: string; types: string[] }>(
      `SELECT stream_id, array_agg(event_type) AS types FROM events WHERE category = 'message' GROUP BY stream_id`,
    );
    return new Map(rows.map((r) => [r.stream_id.replace(/^message-/, ''), r.types]));
  };
  const settleBy = Date.now() + Number(dispatcherEnv.RETRY_DEADLINE_MS) + 30_000;
  let streams = await outcomeOf();
  // The customer-visible end states; a receipt proves the provider took the message.
  const terminal = (types: string[] | undefined) =>
    !!types &&
    ['MessageSent', 'MessageFailed', 'MessageDelivered', 'MessageUndelivered'].some((t) => types.includes(t));
  while (Date.now() < settleBy && sends.some((s) => !terminal(streams.get(s.id as string)))) {
    await sleep(1000);
    streams = await outcomeOf();
  }

  const lost = accepted.filter((r) => {
    const types = streams.get(r.id as string);
    return !types?.includes(r.key ? 'MessageRequested' : 'MessageReceived');
  }).length;
  const stuck = sends.filter((s) => !terminal(streams.get(s.id as string))).length;
  if (stuck > 0) {
    const sample = sends.filter((x) => !terminal(streams.get(x.id as string))).slice(0, 5);
    for (const x of sample) {
      const { rows } = await db.query(
        'SELECT due_at, lease_until, stream_version, now() AS now FROM dispatch_schedule WHERE message_id = $1',
        [x.id],
      );
      say(
        `stuck ${x.kind} ${x.id}: events ${JSON.stringify(streams.get(x.id as string))}, schedule ${JSON.stringify(rows[0] ?? null)}`,
      );
    }
    const { rows: cp } = await db.query('SELECT * FROM subscription_checkpoints');
    say(`checkpoints ${JSON.stringify(cp)}`);
  }
  // Settled by a receipt alone: the log lacks which provider call succeeded (MessageSent).
  const receiptWithoutSent = sends.filter((x) => {
    const types = streams.get(x.id as string) ?? [];
    return !types.includes('MessageSent') && !types.includes('MessageFailed') && terminal(types);
  }).length;
  let doubleSent = 0;
  let conflictingOutcomes = 0;
  for (const types of streams.values()) {
    if (types.filter((t) => t === 'MessageSent').length > 1) doubleSent++;
    if (types.includes('MessageSent') && types.includes('MessageFailed')) conflictingOutcomes++;
  }

  // What the providers saw: one record per idempotency key, that key being our message id, and no
  // message accepted by two providers (which would be two different messages for the recipient).
  let providerDuplicates = 0;
  let providerRepeats = 0;
  const acceptedBy = new Map<string, string[]>();
  for (const p of providers) {
    const seen = (await (await fetch(`${p}/admin/messages`)).json()) as {
      provider: string;
      repeats: number;
      messages: { idempotencyKey: string | null; messageId: string | null; outcome: string; receivedAt: number }[];
    };
    providerRepeats += seen.repeats;
    for (const m of seen.messages) {
      if (!m.idempotencyKey || m.idempotencyKey !== m.messageId) providerDuplicates++;
      if (m.outcome === 'accepted' && m.messageId)
        acceptedBy.set(m.messageId, [
          ...(acceptedBy.get(m.messageId) ?? []),
          `${seen.provider}@${new Date(m.receivedAt).toISOString()}`,
        ]);
    }
  }
  const twice = [...acceptedBy].filter(([, by]) => by.length > 1);
  providerDuplicates += twice.length;
  // What the log says about a few of them: which attempt went out a second time, and why.
  for (const [messageId, by] of twice.slice(0, 5)) {
    const { rows } = await db.query<{ event_type: string; data: Record<string, unknown>; recorded_at: Date }>(
      `SELECT event_type, data, recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [`message-${messageId}`],
    );
    const events = rows.map((r) => `${r.event_type}(${[r.data.provider, r.data.reason].filter(Boolean).join(' ')})`);
    say(`provider duplicate ${messageId}: accepted ${by.join(', ')}; log ${events.join(' → ')}`);
  }

  const rssEnd = readRss();
  const rssMb: SoakResult['rssMb'] = {};
  for (const [name, end] of Object.entries(rssEnd))
    rssMb[name] = {
      warm: Math.round((rssWarm[name] ?? 0) / 1024),
      end: Math.round(end / 1024),
      restarted: restarted.has(name),
    };

  await sleep(1000);
  const verify = spawnSync(join(root, 'bin/replay'), ['--verify'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: stack.databaseUrl },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const readModelDrift = verify.status === 0 ? 0 : 1;
  if (readModelDrift)
    say(`bin/replay --verify exited ${verify.status}:\n${verify.stdout}\n${verify.stderr.slice(-2000)}`);
  if (rejections.length) say(`unexpected rejections, e.g.:\n${rejections.join('\n')}`);

  await db.end();
  await stack.stop();
  await new Promise<void>((r) => (log ? log.end(() => r()) : r()));
  return {
    scenario: 'soak',
    seconds: options.seconds,
    providerIdempotency,
    accepted: accepted.length,
    lost,
    stuck,
    doubleSent,
    kills: Object.values(killsBy).reduce((a, b) => a + b, 0),
    readModelDrift,
    requests: counts.requests,
    sends: sends.length,
    inbound: inbound.length,
    duplicatesSent: counts.duplicatesSent,
    retriedRequests: counts.retriedRequests,
    unexpectedRejections: counts.unexpectedRejections,
    idempotencyMismatches: counts.idempotencyMismatches,
    providerDuplicates,
    providerRepeats,
    conflictingOutcomes,
    receiptWithoutSent,
    max503Ms: counts.max503Ms,
    killsBy,
    rssMb,
    secrets: { apiKey, webhookSecret, bodyMarker },
    addresses: [...addresses],
  };
}

export const soakHolds = (r: SoakResult) =>
  r.lost === 0 &&
  r.stuck === 0 &&
  r.doubleSent === 0 &&
  r.readModelDrift === 0 &&
  r.providerDuplicates === 0 &&
  r.unexpectedRejections === 0 &&
  r.idempotencyMismatches === 0 &&
  r.conflictingOutcomes === 0;
