// The newcomer path, as the README tells it: bin/start.sh brings the whole service up on the embedded
// default (temporary data folder, free ports), bin/test.sh passes against it, a sent SMS reaches the mock
// provider and shows as `sent` in its conversation within 2 s, and SIGINT stops everything cleanly.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './embedded-postgres.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('newcomer path: bin/start.sh then bin/test.sh', () => {
  let start: ChildProcess;
  let output = '';
  let dataDir: string;
  const ports: Record<string, number> = {};
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hatch-newcomer-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres` and must reach its folder
    for (const name of [
      'API_PORT',
      'QUERY_API_PORT',
      'SMS_PROVIDER_PORT',
      'EMAIL_PROVIDER_PORT',
      'SMS_BACKUP_PROVIDER_PORT',
      'EMAIL_BACKUP_PROVIDER_PORT',
      'DISPATCHER_PORT',
      'PROJECTOR_PORT',
      'HATCH_PG_PORT',
    ]) {
      ports[name] = await freePort();
    }
    base = `http://127.0.0.1:${ports.API_PORT}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HATCH_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    delete env.DATABASE_URL;
    start = spawn(join(root, 'bin/start.sh'), [], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    start.stdout?.on('data', (d) => {
      output += String(d);
    });
    start.stderr?.on('data', (d) => {
      output += String(d);
    });
    const deadline = Date.now() + 90_000;
    while (!output.includes('all services ready')) {
      if (start.exitCode !== null) throw new Error(`bin/start.sh exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`bin/start.sh not ready in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    if (start && start.exitCode === null) start.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints one ready line per service with where to find it', () => {
    for (const service of [
      'postgres',
      'migrations',
      'mock-providers',
      'projector',
      'dispatcher',
      'query-api',
      'command-api',
    ]) {
      expect(output).toMatch(new RegExp(`^${service}\\s+ready`, 'm'));
    }
    expect(output).toContain(`${base}/docs`);
  });

  it('passes the curl smoke test', () => {
    const smoke = spawnSync(join(root, 'bin/test.sh'), [], {
      env: { ...process.env, HATCH_API_URL: base },
      encoding: 'utf8',
    });
    expect(smoke.stdout + smoke.stderr).toContain('smoke test passed');
    expect(smoke.status).toBe(0);
  }, 60_000);

  it('delivers a sent SMS to the mock provider and shows it as sent within 2 s', async () => {
    const to = '+18045550199';
    const sent = await fetch(`${base}/api/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+12016661234',
        to,
        type: 'sms',
        body: 'newcomer path',
        attachments: null,
        timestamp: new Date().toISOString(),
      }),
    });
    expect(sent.status).toBe(202);
    const { id, conversationId, position } = (await sent.json()) as {
      id: string;
      conversationId: string;
      position: string;
    };
    const deadline = Date.now() + 2000;
    let status = '';
    let providerSaw = false;
    while (Date.now() < deadline && !(providerSaw && ['sent', 'delivered'].includes(status))) {
      const provider = await (await fetch(`http://127.0.0.1:${ports.SMS_PROVIDER_PORT}/admin/messages`)).text();
      providerSaw = provider.includes(id);
      // Read-your-writes: `after` waits (bounded) until the read model has the send.
      const res = await fetch(`${base}/api/conversations/${conversationId}/messages?after=${position}`);
      const messages = (await res.json()) as { items?: { id: string; status: string }[] };
      status = messages.items?.find((m) => m.id === id)?.status ?? '';
      if (!(providerSaw && ['sent', 'delivered'].includes(status))) await new Promise((r) => setTimeout(r, 50));
    }
    expect(providerSaw).toBe(true);
    expect(['sent', 'delivered']).toContain(status);
  });

  it('stops every process cleanly on SIGINT', async () => {
    const exited = new Promise<number | null>((r) => start.once('exit', (code) => r(code)));
    start.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    expect(output).toMatch(/^postgres\s+stopped/m);
    for (const service of ['command-api', 'query-api', 'dispatcher', 'projector', 'mock-providers']) {
      expect(output).toMatch(new RegExp(`^${service}\\s+stopped \\(exit 0\\)`, 'm'));
    }
    const left = spawnSync('pgrep', ['-f', dataDir], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  }, 30_000);
});
