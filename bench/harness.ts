// Shared benchmark plumbing: a migrated PostgreSQL (DATABASE_URL or a throw-away embedded one),
// closed-loop workers, percentiles, progress on stderr and the result as the LAST stdout line (JSON).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createEventStore, type EventStoreTuning, eventStoreConfigSchema } from '@hatch/event-store';
import { startEmbeddedPostgres } from '@hatch/infra';
import { tracingPreload } from '@hatch/infra/service-process';
import { migrate } from '@hatch/migrate';
import { z } from 'zod';
import { type Scenario, type ScenarioResult, scenarioResultSchemas } from './results.ts';

export type Flags = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], defaults: Record<string, string>): Record<string, string> {
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  return { ...defaults, ...(values as Record<string, string>) };
}

export async function benchDatabase(): Promise<{ url: string; stop(): Promise<void>; cpuMs(): number | null }> {
  if (process.env.DATABASE_URL) {
    await migrate({ databaseUrl: process.env.DATABASE_URL });
    // Somebody else's server: its CPU is not ours to read.
    return { url: process.env.DATABASE_URL, stop: async () => {}, cpuMs: () => null };
  }
  // BENCH_PG_STATEMENTS=1: the server loads pg_stat_statements, so a scenario can say where SQL time went.
  const statements = process.env.BENCH_PG_STATEMENTS === '1';
  const pg = await startEmbeddedPostgres({
    maxConnections: 300,
    ...(statements ? { settings: { shared_preload_libraries: 'pg_stat_statements' } } : {}),
  });
  await migrate({ databaseUrl: pg.url });
  return pg;
}

/** With BENCH_PG_STATEMENTS=1: the statements that took the most server time (to stderr), else nothing. */
export async function reportStatements(databaseUrl: string, label: string, top = 6) {
  if (process.env.BENCH_PG_STATEMENTS !== '1') return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows } = await client.query(
      `SELECT calls, round(total_exec_time)::int AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
              rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1`,
      [top],
    );
    for (const r of rows)
      process.stderr.write(
        `[${label}] pg ${r.calls} calls ${r.total_ms} ms (mean ${r.mean_ms} ms, ${r.rows} rows): ${r.query}\n`,
      );
  } finally {
    await client.end();
  }
}

/** The bench's event store, chosen as every service chooses it: EVENT_STORE (default postgres, on the bench database). */
export function benchEventStore(databaseUrl: string, tuning: EventStoreTuning = {}) {
  return createEventStore(eventStoreConfigSchema.parse({ ...process.env, DATABASE_URL: databaseUrl }), tuning);
}

export const percentile = (sorted: number[], p: number) =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number) : 0;
export const round2 = (x: number) => Math.round(x * 100) / 100;

export interface ClosedLoopResult {
  count: number;
  errors: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `workers` loops each awaiting `once()`; only operations completing inside the measured window count. */
export async function closedLoop(options: {
  label: string;
  workers: number;
  seconds: number;
  warmup: number;
  once: (worker: number, seq: number) => Promise<unknown>;
}): Promise<ClosedLoopResult> {
  const t0 = performance.now();
  const start = t0 + options.warmup * 1000;
  const end = start + options.seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let done = 0;
  let lastDone = 0;
  let lastT = t0;
  let firstError: unknown;
  const ticker = setInterval(() => {
    const now = performance.now();
    const rate = ((done - lastDone) * 1000) / (now - lastT);
    process.stderr.write(
      `[${options.label}] ${((now - t0) / 1000).toFixed(0)}s ${now < start ? 'warmup' : 'measure'} ${rate.toFixed(0)}/s errors=${errors}\n`,
    );
    lastDone = done;
    lastT = now;
  }, 2000);
  await Promise.all(
    Array.from({ length: options.workers }, async (_, w) => {
      let seq = 0;
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await options.once(w, seq++);
          const e = performance.now();
          done++;
          if (s >= start && e <= end) latencies.push(e - s);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  clearInterval(ticker);
  if (firstError) process.stderr.write(`[${options.label}] first error: ${String(firstError)}\n`);
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    perSec: latencies.length / options.seconds,
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    maxMs: round2(latencies.at(-1) ?? 0),
  };
}

/** The result line, validated against its scenario's schema (bench/results.ts): an off-shape result throws. */
export function printResult<S extends Exclude<Scenario, 'peers'>>(result: ScenarioResult<S> & { scenario: S }) {
  const checked = scenarioResultSchemas[result.scenario].safeParse(result);
  if (!checked.success)
    throw new Error(
      `${result.scenario} result is off-shape: ${z.prettifyError(checked.error)}\n${JSON.stringify(result)}`,
    );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** CPU time (user + system) a process has used, from /proc (Linux); 0 where that cannot be read. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

/**
 * A service's real main as a child process (so the load generator does not share its event loop), with
 * BENCH_SERVER_NODE_ARGS (e.g. --cpu-prof), its CPU time from /proc (Linux) and a wait until a URL answers.
 */
export async function startService(options: {
  name: string;
  mainFile: string;
  env: Record<string, string | undefined>;
}) {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', ...tracingPreload(options.mainFile), options.mainFile],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const stop = async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));
  const cpuMs = () => processCpuMs(server.pid);
  const waitReady = async (url: string) => {
    for (const deadline = Date.now() + 30_000; ; ) {
      if (server.exitCode !== null) throw new Error(`${options.name} exited during start`);
      if (
        await fetch(url).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) throw new Error(`${options.name} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { stop, cpuMs, waitReady };
}

/** What this machine's cores allow at `cpuUs` of CPU per unit of work (every process of the run together). */
export function coresCeiling(cpuUs: number): { cores: number; perSec: number } {
  const cores = availableParallelism();
  return { cores, perSec: Math.round((cores * 1e6) / Math.max(0.01, cpuUs)) };
}
