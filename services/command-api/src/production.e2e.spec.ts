// The real process in production mode: it refuses to start, naming each missing secret; with them set a
// request without a key is 401, an account's key is accepted, and /metrics needs the operator token.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PostgresEventStore } from '@hatch/event-store';
import { freePort } from '@hatch/infra';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountOperations } from '../../../bin/account-operations.ts';

const mainFile = fileURLToPath(new URL('./main.ts', import.meta.url));
const operatorToken = 'operator-token-0123456789';
let db: TestDatabase;
const children: ChildProcess[] = [];

/** The test runner's environment without the secrets, so each test states the ones it gives. */
const {
  DATABASE_URL: _d,
  WEBHOOK_SECRET: _w,
  OPERATOR_TOKEN: _o,
  API_KEYS: _k,
  WEBHOOK_SECRETS_KEY: _s,
  ...inherited
} = process.env;

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', mainFile], {
    env: { ...inherited, NODE_ENV: 'production', API_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await db?.drop();
});

describe('command-api in production', () => {
  it('refuses to start without DATABASE_URL, WEBHOOK_SECRET, OPERATOR_TOKEN and WEBHOOK_SECRETS_KEY, naming each', async () => {
    const run = start({ API_PORT: String(await freePort()) });
    const code = await run.exited;
    expect(code).toBe(78);
    for (const name of ['DATABASE_URL', 'WEBHOOK_SECRET', 'OPERATOR_TOKEN', 'WEBHOOK_SECRETS_KEY'])
      expect(run.output()).toContain(name);
  });

  it('with its secrets set: 401 without a key, 202 with an account key, /metrics only for the operator', async () => {
    const store = new PostgresEventStore({ connectionString: db.url });
    const ops = accountOperations({
      store,
      now: () => new Date(),
      newId: randomUUID,
      random: randomBytes,
      actor: 'operator:test',
    });
    const created = await ops.createAccount('Prod', ['+12016661234']);
    await store.close();
    if (!created.ok) throw new Error('account not created');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = start({
      DATABASE_URL: db.url,
      WEBHOOK_SECRET: 'production-webhook-secret',
      OPERATOR_TOKEN: operatorToken,
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
      API_PORT: String(port),
      SERVE_INBOX: 'false',
    });
    const deadline = Date.now() + 20_000;
    while (
      !(await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (run.child.exitCode !== null) throw new Error(`exited early:\n${run.output()}`);
      if (Date.now() > deadline) throw new Error(`did not start:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const send = (headers: Record<string, string>) =>
      fetch(`${base}/api/messages/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          from: '+12016661234',
          to: '+18045551234',
          type: 'sms',
          body: 'prod hello',
          attachments: null,
          timestamp: '2024-11-01T14:00:00Z',
        }),
      });
    const none = await send({});
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect((await send({ authorization: `Bearer ${created.value.apiKey}` })).status).toBe(202);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${operatorToken}` } })).status).toBe(
      200,
    );
  });
});
