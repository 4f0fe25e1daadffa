// What `bin/bench all` runs, in order, and with which flags: the sizes by default (issue 21), small
// ones with --quick (also what the CI smoke runs). Peers run first and last, so the reference's drift over
// the run is visible. A run's key names it in the results and the table.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { type Scenario, scenarioResultSchema } from './results.ts';

const root = join(import.meta.dirname, '..');

export interface PlannedRun {
  key: string;
  scenario: Scenario;
  args: string[];
  /** What the row is called in the table. */
  label: string;
  /** Ends the run (its process group killed) when exceeded; the run is recorded as failed. */
  timeoutSeconds: number;
}

export interface PlanOptions {
  quick: boolean;
  /** Overrides every scenario's measured seconds (the load's length; not warmups, drains or seeding). */
  seconds?: number;
}

export function benchPlan({ quick, seconds }: PlanOptions): PlannedRun[] {
  const s = (full: number, small: number) => String(seconds ?? (quick ? small : full));
  const warmup = quick ? ['--warmup', '1'] : [];
  const peers = (key: string, label: string): PlannedRun => ({
    key,
    scenario: 'peers',
    label,
    args: ['--seconds', s(10, 2), ...(quick ? ['--warmup', '1', '--writers', '16'] : [])],
    timeoutSeconds: 300,
  });
  const e2e = (transport: 'log' | 'kafka'): PlannedRun => ({
    key: `e2e-http-${transport}`,
    scenario: 'e2e',
    label: `e2e over HTTP, ${transport} transport`,
    args: [
      ...['--via', 'http', '--transport', transport, '--seconds', s(60, 3)],
      ...(quick ? ['--rate', '100', '--drain', '10', '--settle', '20', '--idle', '10'] : ['--settle', '60']),
    ],
    timeoutSeconds: 600,
  });
  // The query's read model at one size each (20,000 conversations per million events, as in the issue).
  const query = (key: string, label: string, events: number): PlannedRun => ({
    key,
    scenario: 'query',
    label,
    args: [
      ...['--sizes', String(events), '--seconds', s(15, 2)],
      ...(quick ? ['--warmup', '1', '--connections', '4'] : ['--connections', '32']),
    ],
    timeoutSeconds: 1200,
  });
  return [
    peers('peers-start', 'peers (start)'),
    {
      key: 'append',
      scenario: 'append',
      label: 'append',
      args: ['--seconds', s(20, 2), ...warmup],
      timeoutSeconds: 300,
    },
    { key: 'send', scenario: 'send', label: 'send', args: ['--seconds', s(20, 2), ...warmup], timeoutSeconds: 300 },
    e2e('log'),
    ...(quick ? [] : [e2e('kafka')]),
    {
      key: 'project',
      scenario: 'project',
      label: `project (${quick ? '20k' : '1M'} events)`,
      args: ['--events', quick ? '20000' : '1000000'],
      timeoutSeconds: 1200,
    },
    {
      key: 'project-lag',
      scenario: 'project-lag',
      label: 'project-lag',
      args: ['--seconds', s(20, 2), ...warmup, ...(quick ? ['--writers', '8'] : [])],
      timeoutSeconds: 300,
    },
    {
      key: 'schedule',
      scenario: 'schedule',
      label: 'schedule',
      args: ['--seconds', s(10, 2), ...(quick ? ['--rate', '50', '--lead', '3', '--drain', '10'] : [])],
      timeoutSeconds: 300,
    },
    query('query-10k', `query (${quick ? '2k' : '10k'} events)`, quick ? 2_000 : 10_000),
    ...(quick ? [] : [query('query-1m', 'query (1M events)', 1_000_000)]),
    {
      key: 'stream',
      scenario: 'stream',
      label: 'stream',
      args: [
        '--seconds',
        s(15, 2),
        ...(quick
          ? [
              '--clients',
              '20',
              '--rate',
              '20',
              '--warmup',
              '0',
              '--drain',
              '1',
              '--conversations',
              '5',
              '--connections',
              '4',
            ]
          : []),
      ],
      timeoutSeconds: 300,
    },
    {
      key: 'notify',
      scenario: 'notify',
      label: 'notify',
      args: ['--seconds', s(10, 2), ...(quick ? ['--rate', '10'] : [])],
      timeoutSeconds: 300,
    },
    peers('peers-end', 'peers (end)'),
  ];
}

const load = z.object({ uptime: z.string(), loadavg: z.array(z.number()) });

export const benchRunRecordSchema = z.object({
  key: z.string(),
  scenario: z.string(),
  label: z.string(),
  command: z.string(),
  ok: z.boolean(),
  /** The validated result line(s); absent when the scenario failed before printing a valid one. */
  result: scenarioResultSchema.optional(),
  error: z.string().optional(),
  exitCode: z.number().nullable(),
  wallSeconds: z.number(),
  loadBefore: load,
  loadAfter: load,
});
export type BenchRunRecord = z.infer<typeof benchRunRecordSchema>;

export const benchReportSchema = z.object({
  startedAt: z.string(),
  finishedAt: z.string(),
  quick: z.boolean(),
  machine: z.object({
    cores: z.number(),
    cpuModel: z.string(),
    memoryGiB: z.number(),
    node: z.string(),
    platform: z.string(),
    gitCommit: z.string(),
    gitDirty: z.boolean(),
  }),
  runs: z.array(benchRunRecordSchema),
});
export type BenchReport = z.infer<typeof benchReportSchema>;

/** One scenario as its own process group (so a timeout also ends the services it started). */
export function runScenario(run: PlannedRun, options: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}) {
  const { env = process.env, echo = true } = options;
  return new Promise<{ stdout: string; exitCode: number | null; timedOut: boolean; stderrTail: string }>(
    (resolve, reject) => {
      const child = spawn(join(root, 'bin', 'bench'), [run.scenario, ...run.args], {
        cwd: root,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderrTail = '';
      let timedOut = false;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          // The group has already exited.
        }
      };
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        if (echo) process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk).slice(-4000);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup('SIGTERM');
        setTimeout(() => signalGroup('SIGKILL'), 10_000).unref();
      }, run.timeoutSeconds * 1000);
      child.on('error', reject);
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ stdout, exitCode, timedOut, stderrTail });
      });
    },
  );
}
