import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { hashApiKey } from '@hatch/domain';
import { createEventStore, type EventStore } from '@hatch/event-store';
import { createTestDatabase, type TestDatabase } from '@hatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('bin/hatch', () => {
  let db: TestDatabase;
  let store: EventStore;

  /** Runs the CLI as an operator would: a separate process against the test database. */
  function hatch(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(root, 'bin', 'hatch'), args, {
        env: { ...process.env, DATABASE_URL: db.url, EVENT_STORE: 'postgres' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  const lastLineJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string);

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createEventStore({ EVENT_STORE: 'postgres', DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('creates, lists, adds senders, refuses another account the same sender, issues and revokes keys', async () => {
    const created = await hatch('accounts', 'create', 'Acme', '--sender', '+1 (201) 666-1234', '--sender', '@Acme.com');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { accountId, apiKey } = lastLineJson(created.stdout);
    expect(accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(apiKey).toMatch(/^hk_live_[0-9A-Za-z]{40}$/);

    // The log holds the key's hash, never the key.
    const events = await store.readStream(`account-${accountId}`);
    expect(events.map((e) => e.type)).toEqual(['AccountCreated', 'SenderAdded', 'SenderAdded', 'ApiKeyIssued']);
    expect(events[3]?.data).toMatchObject({ keyHash: hashApiKey(apiKey), name: 'default' });
    expect(JSON.stringify(events)).not.toContain(apiKey);
    expect(events[0]?.metadata).toMatchObject({ schemaVersion: 1, actor: expect.stringMatching(/^operator:/) });

    const other = await hatch('accounts', 'create', 'Globex');
    expect(other.code).toBe(0);
    const globex = lastLineJson(other.stdout).accountId as string;

    const added = await hatch('senders', 'add', 'Acme', 'ops@globex.com');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Acme now owns ops@globex.com');

    // The same number in another spelling, by another account: refused (exit 1), nothing appended.
    const taken = await hatch('senders', 'add', globex, '2016661234');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('+12016661234 belongs to another account');
    expect(await store.readStream(`account-${globex}`)).toHaveLength(2);
    const takenAtCreate = await hatch('accounts', 'create', 'Initech', '--sender', '+12016661234');
    expect(takenAtCreate.code).toBe(1);

    // Released by its owner, it may then be claimed.
    expect((await hatch('senders', 'remove', accountId, '+12016661234')).code).toBe(0);
    expect((await hatch('senders', 'add', 'Globex', '+12016661234')).code).toBe(0);

    const issued = await hatch('keys', 'issue', 'Acme', '--name', 'ci');
    expect(issued.code).toBe(0);
    const key = lastLineJson(issued.stdout);
    expect(key).toMatchObject({ accountId, apiKey: expect.stringMatching(/^hk_live_/) });
    expect(key.apiKey).not.toBe(apiKey);
    const revoked = await hatch('keys', 'revoke', accountId, key.keyId);
    expect(revoked.code).toBe(0);
    expect((await hatch('keys', 'revoke', accountId, '00000000-0000-4000-8000-000000000000')).code).toBe(1);

    const listed = await hatch('accounts', 'list', '--json');
    expect(listed.code).toBe(0);
    const accounts = JSON.parse(listed.stdout) as {
      accountId: string;
      name: string;
      senders: Record<string, string>;
      apiKeys: { keyId: string; name: string; revokedAt: string | null }[];
    }[];
    expect(accounts.map((a) => a.name)).toEqual(['Acme', 'Globex']);
    expect(accounts[0]?.senders).toEqual({ '@acme.com': 'email_domain', 'ops@globex.com': 'email' });
    expect(accounts[1]?.senders).toEqual({ '+12016661234': 'phone' });
    expect(accounts[0]?.apiKeys.map((k) => [k.name, k.revokedAt === null])).toEqual([
      ['default', true],
      ['ci', false],
    ]);
    expect(listed.stdout).not.toContain('keyHash');
    const human = await hatch('accounts', 'list');
    expect(human.stdout).toContain(`${accountId}  Acme`);
  });

  it('answers --help with exit 0 and usage errors with exit 2', async () => {
    const help = await hatch('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('accounts create NAME');
    const one = await hatch('keys', 'issue', '--help');
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('usage: bin/hatch keys issue ACCOUNT [--name NAME]');
    const missing = await hatch('senders', 'add', 'Acme');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('takes ACCOUNT SENDER');
    expect((await hatch('accounts', 'create', 'X', '--colour', 'red')).code).toBe(2);
    const badSender = await hatch('accounts', 'create', 'X', '--sender', 'not-a-number');
    expect(badSender.code).toBe(2);
    expect(badSender.stderr).toContain('sender');
    expect((await hatch('accounts', 'list', '--json')).stdout).not.toContain('"X"');
  });
});
