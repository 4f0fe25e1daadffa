import { createLogger } from '@hatch/platform';
import type { TestDatabase } from '@hatch/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandApiOnTestDatabase, commandApiOnTestDatabase } from './testing/on-test-database.ts';

const _silent = createLogger('append-outcomes-test', { level: 'silent' });
const sms = { from: '+12016661234', to: '+18045551234', body: 'Hello' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('send answers under a slow log', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let app: CommandApiOnTestDatabase['app'];
  let under: CommandApiOnTestDatabase | undefined;

  beforeAll(async () => {
    under = await commandApiOnTestDatabase({ name: 'append-outcomes-test', config: { appendTimeoutMs: 300 } });
    ({ db, sql, app } = under);
  });
  afterAll(async () => {
    await under?.close();
  });

  const send = (body: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/messages/sms', payload: body, headers });
  const requests = async (text: string) =>
    Number(
      (
        await sql.query(
          `SELECT count(*)::int AS n FROM events WHERE event_type = 'MessageRequested' AND data->>'body' = $1`,
          [text],
        )
      ).rows[0].n,
    );

  it('gives every accepted send an idempotency key that replays it', async () => {
    const first = await send({ ...sms, body: 'keyed by us' });
    expect(first.statusCode).toBe(202);
    const token = first.json().idempotencyKey as string;
    expect(token).toMatch(/^hatch-/);
    expect(first.headers['idempotency-key']).toBe(token);
    const retry = await send({ ...sms, body: 'keyed by us' }, { 'idempotency-key': token });
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json().id).toBe(first.json().id);
    expect(await requests('keyed by us')).toBe(1);
  });

  it('answers 503 for a withdrawn append and 504 for one whose write had begun; retries with the key send once', async () => {
    // warm up: the local account's first-use sender claim is an append too
    expect((await send({ ...sms, body: 'warm up' })).statusCode).toBe(202);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE events IN EXCLUSIVE MODE');
    const writing = send({ ...sms, body: 'was being written' });
    await sleep(50);
    const waiting = send({ ...sms, body: 'was waiting' });
    const [unknown, withdrawn] = await Promise.all([writing, waiting]);
    await holder.query('COMMIT');
    await holder.end();

    expect(withdrawn.statusCode).toBe(503);
    expect(withdrawn.headers['retry-after']).toBe('1');
    expect(withdrawn.json().detail).toContain('nothing was accepted');
    expect(unknown.statusCode).toBe(504);
    expect(unknown.json().type).toContain('append-outcome-unknown');
    const unknownKey = unknown.json().idempotencyKey as string;
    const withdrawnKey = withdrawn.json().idempotencyKey as string;
    expect(unknown.headers['idempotency-key']).toBe(unknownKey);
    expect(withdrawnKey).toMatch(/^hatch-/);

    // The 503 was true: nothing of it is in the log. The 504's write went on and committed.
    await sleep(100);
    expect(await requests('was waiting')).toBe(0);
    expect(await requests('was being written')).toBe(1);

    const retryUnknown = await send({ ...sms, body: 'was being written' }, { 'idempotency-key': unknownKey });
    expect(retryUnknown.statusCode).toBe(202);
    expect(retryUnknown.headers['idempotent-replayed']).toBe('true');
    const retryWithdrawn = await send({ ...sms, body: 'was waiting' }, { 'idempotency-key': withdrawnKey });
    expect(retryWithdrawn.statusCode).toBe(202);
    expect(await requests('was being written')).toBe(1);
    expect(await requests('was waiting')).toBe(1);
  });
});
