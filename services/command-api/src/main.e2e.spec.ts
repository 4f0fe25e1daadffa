// The real process: `node --import tsx src/main.ts` against a real PostgreSQL, over HTTP.
import { freePort } from '@hatch/infra';
import { type ServiceProcess, serviceEntry, startServiceProcess } from '@hatch/infra/service-process';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
let service: ServiceProcess;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = startServiceProcess({
    entry: serviceEntry('command-api'),
    env: { DATABASE_URL: db.url, API_PORT: String(port), API_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    // The whole log: the spec reads the startup warning and the shutdown line from it.
    tailChunks: 100_000,
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!service.running()) throw new Error(`command-api exited early:\n${service.tail()}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`command-api did not start:\n${service.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await service?.stop('SIGKILL');
  await db?.drop();
});

describe('command-api process', () => {
  it('accepts a send over HTTP and says that webhook signatures are off', async () => {
    const res = await fetch(`${base}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'e2e-1' },
      body: JSON.stringify({
        from: '+12016661234',
        to: '+18045551234',
        type: 'sms',
        body: 'e2e hello',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      }),
    });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { id: string; status: string };
    expect(accepted.status).toBe('queued');

    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const { rows } = await sql.query('SELECT event_type FROM events WHERE stream_id = $1', [`message-${accepted.id}`]);
    await sql.end();
    expect(rows).toEqual([{ event_type: 'MessageRequested' }]);

    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect(service.tail()).toContain('webhook signatures are NOT checked');
    expect(service.tail()).not.toContain('+18045551234');
  });

  it('finishes an in-flight send on SIGTERM, then exits 0', async () => {
    // Hold the log's tables so the send is provably in flight when the signal arrives.
    const locker = new pg.Client({ connectionString: db.url });
    locker.on('error', () => {}); // the database is dropped at the end of the file
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const pending = fetch(`${base}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+12016661234',
        to: '+18045551234',
        type: 'sms',
        body: 'in flight',
        attachments: null,
        timestamp: '2024-11-01T14:00:00Z',
      }),
    });
    for (let waiting = 0; waiting === 0; ) {
      await new Promise((r) => setTimeout(r, 20));
      waiting = (await locker.query('SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted')).rows[0].n;
    }
    const stopping = service.stop('SIGTERM', 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(service.running()).toBe(true); // still finishing the request
    await locker.query('COMMIT');
    await locker.end();
    const res = await pending;
    expect(res.status).toBe(202);
    const { code } = await stopping;
    if (code !== 0) console.log(service.tail().split('\n').slice(-8).join('\n'));
    expect(code).toBe(0);
    expect(service.tail()).toContain('stopped');
  });
});
