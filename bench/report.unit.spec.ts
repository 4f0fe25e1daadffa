import { describe, expect, it } from 'vitest';
import type { BenchReport, BenchRunRecord } from './plan.ts';
import { references, renderMarkdown } from './report.ts';
import { parsePeersOutput, parseScenarioOutput } from './results.ts';

// What ../shared/peers prints on stdout: one JSON line per script (emmett, single, group).
const peersStdout = [
  '{"scenario":"append","store":"emmett-postgresql@0.42.0","eventsPerSec":1513.2,"p50Ms":40,"p99Ms":90.5,"writers":64,"seconds":10,"pg":"18","pool":64,"errors":0}',
  '{"scenario":"append-floor-single","store":"pg@8.23.1","eventsPerSec":3000,"p50Ms":20,"p99Ms":40,"writers":64,"seconds":10,"pg":"18","errors":0}',
  '{"scenario":"append-floor-group","store":"pg@8.23.1","eventsPerSec":24000,"p50Ms":2,"p99Ms":6.5,"writers":64,"seconds":10,"pg":"18","flushers":1,"rowsPerCommit":30,"errors":0}',
].join('\n');

const load = { uptime: 'up', loadavg: [1, 1, 1] };
const record = (key: string, result: BenchRunRecord['result'], ok = true): BenchRunRecord => ({
  key,
  scenario: result?.scenario ?? key,
  label: key,
  command: `bin/bench ${key}`,
  ok,
  ...(result ? { result } : { error: 'exited with 1\nboom' }),
  exitCode: ok ? 0 : 1,
  wallSeconds: 1,
  loadBefore: load,
  loadAfter: load,
});

describe('bench results', () => {
  it('gathers the three peers lines into floor, single commit and Emmett, with p99', () => {
    expect(parsePeersOutput(`progress noise\n${peersStdout}\n`)).toEqual({
      scenario: 'peers',
      groupCommitFloor: { eventsPerSec: 24000, p99Ms: 6.5, store: 'pg@8.23.1' },
      singleCommitFloor: { eventsPerSec: 3000, p99Ms: 40, store: 'pg@8.23.1' },
      emmett: { eventsPerSec: 1513.2, p99Ms: 90.5, store: 'emmett-postgresql@0.42.0' },
    });
    expect(() => parsePeersOutput(peersStdout.split('\n').slice(0, 2).join('\n'))).toThrow(/append-floor-group/);
  });

  it('refuses an off-shape result line, and one that is missing', () => {
    const append = { scenario: 'append', store: 'x', eventsPerSec: 1, p50Ms: 1, p99Ms: 2, writers: 1, seconds: 1 };
    expect(parseScenarioOutput('append', `noise\n${JSON.stringify({ ...append, errors: 0 })}`).eventsPerSec).toBe(1);
    expect(() => parseScenarioOutput('append', JSON.stringify(append))).toThrow(/errors/);
    expect(() => parseScenarioOutput('append', JSON.stringify({ ...append, errors: 0, p99Ms: 'fast' }))).toThrow();
    expect(() => parseScenarioOutput('send', JSON.stringify({ ...append, errors: 0 }))).toThrow();
    expect(() => parseScenarioOutput('append', '')).toThrow(/nothing/);
  });

  it('puts each figure beside its target and the same run’s floor, and marks failures', () => {
    const peers = parsePeersOutput(peersStdout);
    const report: BenchReport = {
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:20:00.000Z',
      quick: false,
      machine: {
        cores: 2,
        cpuModel: 'test',
        memoryGiB: 8,
        node: 'v20',
        platform: 'linux',
        gitCommit: 'abc',
        gitDirty: false,
      },
      runs: [
        record('peers-start', peers),
        record('append', {
          scenario: 'append',
          store: 'hatch-postgres',
          eventsPerSec: 18000,
          p50Ms: 3,
          p99Ms: 12,
          writers: 64,
          seconds: 20,
          errors: 0,
        }),
        record('send', undefined, false),
      ],
    };
    expect(references(report.runs).floor).toBe(24000);
    const md = renderMarkdown(report);
    // 18,000 ÷ 24,000 = 0.75× the floor: met; p99 12 ms against < 10 ms: not met.
    expect(md).toMatch(
      /\| append \| events\/s \| 18,000 \| ≥ 0\.7× floor \| 0\.75× floor 24,000 ev\/s; 11\.90× Emmett 1,513 ev\/s \| met \|/,
    );
    expect(md).toMatch(/\| append \| p99 \| 12 ms \| < 10 ms \| — \| \*\*not met\*\* \|/);
    expect(md).toMatch(/\| send \| FAILED \| exited with 1: boom \|/);
    expect(md).toContain('Failed: send.');
  });
});
