// bin/soak, 60 seconds: the whole stack under mixed traffic with provider faults while the dispatcher,
// projector, command API and PostgreSQL are SIGKILLed and restarted. The same run has WEBHOOK_SECRET and
// API_KEYS set and captures every service's log, which must hold no full phone number, email address,
// message body, API key or webhook secret.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSoak, type SoakResult } from './soak.ts';

const seconds = Number(process.env.SOAK_TEST_SECONDS ?? 60);

describe(`bin/soak (${seconds} s, with kills, secrets set, logs captured)`, () => {
  const folder = mkdtempSync(join(tmpdir(), 'hatch-soak-logs-'));
  const logFile = join(folder, 'services.log');
  let result: SoakResult;
  let logs = '';

  beforeAll(
    async () => {
      result = await runSoak({
        seconds,
        rate: 40,
        secure: true,
        kills: true,
        logFile,
        say: (line) => console.log(line),
      });
      logs = readFileSync(logFile, 'utf8');
      const { secrets: _s, addresses: _a, ...printed } = result;
      console.log(JSON.stringify(printed));
    },
    (seconds + 240) * 1000,
  );

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('loses nothing, leaves nothing stuck, sends nothing twice, and the read model equals a rebuild', () => {
    expect(result.accepted).toBeGreaterThan(seconds * 10);
    expect(result.kills).toBeGreaterThan(0);
    expect(result).toMatchObject({
      lost: 0,
      stuck: 0,
      doubleSent: 0,
      conflictingOutcomes: 0,
      providerDuplicates: 0,
      idempotencyMismatches: 0,
      unexpectedRejections: 0,
      readModelDrift: 0,
    });
  });

  it('answers 503 within 1 s while PostgreSQL is down', () => {
    expect(result.max503Ms).toBeLessThan(1000);
  });

  it('logs no full phone number, email address, message body, API key or webhook secret', () => {
    expect(logs.length).toBeGreaterThan(10_000); // the capture worked
    for (const service of ['command-api', 'dispatcher', 'projector', 'mock-providers'])
      expect(logs).toContain(`"name":"${service}"`);
    const { apiKey, webhookSecret, bodyMarker } = result.secrets;
    expect(logs).not.toContain(apiKey as string);
    expect(logs).not.toContain(webhookSecret as string);
    expect(logs).not.toContain(bodyMarker);
    // Every run of 10+ digits in the logs, against every number the soak used (with or without the +).
    const digitRuns = new Set(logs.match(/\d{10,}/g) ?? []);
    const leaked = result.addresses.filter((a) => a.startsWith('+') && digitRuns.has(a.slice(1)));
    expect(leaked).toEqual([]);
    // Any email address at all must be masked (first character, then ***).
    const emails = logs.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g) ?? [];
    expect(emails.filter((e) => !/^[A-Za-z0-9._%+-]\*{3}@/.test(e) && !/^\*{3}@/.test(e))).toEqual([]);
  });
});
