// The one launcher for a Hatch service process: the stack runner (bin/start.sh, smoke-production, scratch
// stacks) and the test kit start services through it, so a service runs the same way everywhere: its source
// entry with tsx or its production bundle with plain node, output captured (bounded tail) or inherited,
// stopped by a signal and then SIGKILL after a grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (sources are started from here). */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A service's source file, `services/<service>/src/<file>` (main.ts unless told). */
export const serviceEntry = (service: string, file = 'main.ts') =>
  join(repositoryRoot, 'services', service, 'src', file);

/**
 * The tracing preload (`node --import`), which must run before the entry's imports: the source file next to
 * a `.ts` entry, the bundle's `tracing.js` beside a built one. It starts OpenTelemetry only when OTEL_* asks.
 */
export const tracingPreload = (entry: string): string[] => {
  const preload = entry.endsWith('.ts')
    ? join(repositoryRoot, 'packages', 'platform', 'src', 'tracing-register.ts')
    : join(dirname(entry), 'tracing.js');
  return existsSync(preload) ? ['--import', preload] : [];
};

export interface ServiceProcessOptions {
  /** Absolute path of a `.ts` source (run with tsx) or a built `.js` bundle (run with plain node). */
  entry: string;
  /** Added over this process's environment. */
  env?: NodeJS.ProcessEnv;
  args?: string[];
  nodeArgs?: string[];
  cwd?: string;
  /**
   * 'capture' keeps the last `tailChunks` chunks of stdout+stderr (the default); 'inherit' writes to this
   * process's; a function receives every chunk (and the tail is kept as well).
   */
  output?: 'capture' | 'inherit' | ((chunk: string) => void);
  tailChunks?: number;
  /** Its own process group, so a terminal Ctrl-C reaches only the supervisor (which stops services in order). */
  detached?: boolean;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number | undefined;
  /** The captured output's tail (empty when inherited). */
  tail(): string;
  exited: Promise<ServiceExit>;
  running(): boolean;
  /** Sends `signal`, then SIGKILL when it has not exited after `graceMs`; resolves once it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ServiceExit>;
}

export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const source = options.entry.endsWith('.ts');
  const nodeArgs = [
    ...(options.nodeArgs ?? []),
    ...(source ? ['--import', 'tsx'] : ['--enable-source-maps']),
    ...tracingPreload(options.entry),
  ];
  const output = options.output ?? 'capture';
  const inherit = output === 'inherit';
  const child = spawn(process.execPath, [...nodeArgs, options.entry, ...(options.args ?? [])], {
    cwd: options.cwd ?? repositoryRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    detached: options.detached ?? false,
  });
  const chunks: string[] = [];
  const limit = options.tailChunks ?? 200;
  const keep = (chunk: Buffer) => {
    const text = String(chunk);
    chunks.push(text);
    if (chunks.length > limit) chunks.shift();
    if (typeof output === 'function') output(text);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // Spawning itself failed (no exit event follows).
    child.once('error', (error) => {
      chunks.push(String(error));
      resolve({ code: child.exitCode, signal: child.signalCode });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    child,
    pid: child.pid,
    tail: () => chunks.join(''),
    exited,
    running,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!running()) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}
