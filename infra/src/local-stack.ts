// The whole service on the embedded default, in one process tree: embedded PostgreSQL (persistent),
// migrations, then every service as a child process with its environment, each awaited until ready.
// Ctrl-C (SIGINT) or SIGTERM stops the services in order (APIs first, so nothing new is accepted while
// the workers finish), then PostgreSQL.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '@hatch/migrate';
import { freePort } from './embedded-postgres.ts';
import { type LocalDatabase, localDatabase } from './local-database.ts';
import { repositoryRoot as root, type ServiceProcess, startServiceProcess } from './service-process.ts';

export interface StackService {
  name: string;
  /** Entry file relative to the repository root. */
  entry: string;
  /** Its production bundle: dist/<bundle>.js (see production-build.ts). */
  bundle: string;
  env: Record<string, string>;
  /** URL answering 200 when the service is ready. */
  readyUrl: string;
  /** What to print once it is ready. */
  banner: string;
}

export interface StackConfig {
  apiPort: number;
  queryApiPort: number;
  smsProviderPort: number;
  emailProviderPort: number;
  smsBackupProviderPort: number;
  emailBackupProviderPort: number;
  dispatcherPort: number;
  projectorPort: number;
  /** The notifier's /health /ready /metrics; absent: the stack runs no notifier. */
  notifierPort?: number;
}

export const stackConfigFromEnv = (env = process.env): StackConfig => ({
  apiPort: Number(env.API_PORT ?? 8080),
  queryApiPort: Number(env.QUERY_API_PORT ?? 8081),
  smsProviderPort: Number(env.SMS_PROVIDER_PORT ?? 8001),
  emailProviderPort: Number(env.EMAIL_PROVIDER_PORT ?? 8002),
  smsBackupProviderPort: Number(env.SMS_BACKUP_PROVIDER_PORT ?? 8003),
  emailBackupProviderPort: Number(env.EMAIL_BACKUP_PROVIDER_PORT ?? 8004),
  dispatcherPort: Number(env.DISPATCHER_PORT ?? 8090),
  projectorPort: Number(env.PROJECTOR_PORT ?? 8091),
  notifierPort: Number(env.NOTIFIER_PORT ?? 8093),
});

/** Every port on a free one (scratch stacks beside a running default one). */
export const freeStackConfig = async (): Promise<StackConfig> => ({
  apiPort: await freePort(),
  queryApiPort: await freePort(),
  smsProviderPort: await freePort(),
  emailProviderPort: await freePort(),
  smsBackupProviderPort: await freePort(),
  emailBackupProviderPort: await freePort(),
  dispatcherPort: await freePort(),
  projectorPort: await freePort(),
  notifierPort: await freePort(),
});

/** The services of the default run, in start order (stopped in reverse). */
export function stackServices(config: StackConfig, databaseUrl: string): StackService[] {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  const shared = { DATABASE_URL: databaseUrl };
  const all: StackService[] = [
    {
      name: 'mock-providers',
      bundle: 'mock-providers',
      entry: 'services/mock-providers/src/main.ts',
      env: {
        SMS_PROVIDER_PORT: String(config.smsProviderPort),
        EMAIL_PROVIDER_PORT: String(config.emailProviderPort),
        SMS_BACKUP_PROVIDER_PORT: String(config.smsBackupProviderPort),
        EMAIL_BACKUP_PROVIDER_PORT: String(config.emailBackupProviderPort),
        HATCH_CALLBACK_BASE_URL: local(config.apiPort),
      },
      readyUrl: `${local(config.emailBackupProviderPort)}/health`,
      banner: `admin ${local(config.smsProviderPort)}/admin/messages (SMS), ${local(config.emailProviderPort)}/admin/messages (email); backups on ${config.smsBackupProviderPort}/${config.emailBackupProviderPort}`,
    },
    {
      name: 'projector',
      bundle: 'projector',
      entry: 'services/projector/src/main.ts',
      env: { ...shared, PROJECTOR_PORT: String(config.projectorPort) },
      readyUrl: `${local(config.projectorPort)}/ready`,
      banner: `metrics ${local(config.projectorPort)}/metrics`,
    },
    {
      name: 'dispatcher',
      bundle: 'dispatcher',
      entry: 'services/dispatcher/src/main.ts',
      env: {
        ...shared,
        DISPATCHER_PORT: String(config.dispatcherPort),
        SMS_PROVIDER_URL: local(config.smsProviderPort),
        EMAIL_PROVIDER_URL: local(config.emailProviderPort),
        SMS_BACKUP_PROVIDER_URL: local(config.smsBackupProviderPort),
        EMAIL_BACKUP_PROVIDER_URL: local(config.emailBackupProviderPort),
        HATCH_CALLBACK_BASE_URL: local(config.apiPort),
      },
      readyUrl: `${local(config.dispatcherPort)}/ready`,
      banner: `metrics ${local(config.dispatcherPort)}/metrics`,
    },
    {
      name: 'query-api',
      bundle: 'query-api',
      entry: 'services/query-api/src/main.ts',
      env: { ...shared, QUERY_API_PORT: String(config.queryApiPort) },
      readyUrl: `${local(config.queryApiPort)}/ready`,
      banner: `${local(config.queryApiPort)}/api/conversations (the same routes are served on the API port)`,
    },
    {
      name: 'command-api',
      bundle: 'command-api',
      entry: 'services/command-api/src/main.ts',
      env: {
        ...shared,
        API_PORT: String(config.apiPort),
        DISPATCHER_URL: local(config.dispatcherPort),
        PROJECTOR_URL: local(config.projectorPort),
        ...(config.notifierPort !== undefined ? { NOTIFIER_URL: local(config.notifierPort) } : {}),
      },
      readyUrl: `${local(config.apiPort)}/ready`,
      banner: `inbox ${local(config.apiPort)}/  API ${local(config.apiPort)}/api  docs ${local(config.apiPort)}/docs  metrics ${local(config.apiPort)}/metrics`,
    },
  ];
  if (config.notifierPort !== undefined)
    all.push({
      name: 'notifier',
      bundle: 'notifier',
      entry: 'services/notifier/src/main.ts',
      env: { ...shared, NOTIFIER_PORT: String(config.notifierPort) },
      readyUrl: `${local(config.notifierPort)}/ready`,
      banner: `customer webhooks; metrics ${local(config.notifierPort)}/metrics`,
    });
  // Services land one by one; the stack runs whichever exist.
  return all.filter((s) => existsSync(join(root, s.entry)));
}

/** `node dist/migrate.js up` in a production build folder; resolves to what it printed. */
async function migrateFromBuild(dir: string, databaseUrl: string): Promise<string> {
  const run = startServiceProcess({
    entry: join(dir, 'dist', 'migrate.js'),
    args: ['up'],
    cwd: dir,
    env: { DATABASE_URL: databaseUrl },
  });
  const { code } = await run.exited;
  if (code !== 0) throw new Error(`dist/migrate.js up exited with ${code}: ${run.tail().trim()}`);
  return `dist/migrate.js ${run.tail().trim()}`;
}

async function waitReady(service: StackService, running: ServiceProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running.running())
      throw new Error(`${service.name} exited with code ${running.child.exitCode} while starting`);
    try {
      const res = await fetch(service.readyUrl, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${service.name} was not ready at ${service.readyUrl} after ${timeoutMs} ms`);
}

export interface RunningStack {
  databaseUrl: string;
  stop(): Promise<void>;
  exited: Promise<void>;
  /** Names of the running services, in start order. */
  services: string[];
  /** Process id of a service (crash tests, RSS readings). */
  pid(name: string): number | undefined;
  /** Crash test hook: SIGKILL one service; the stack does not stop because of it. */
  kill(name: string): Promise<void>;
  /** Starts a killed service again and waits until it is ready. */
  restart(name: string): Promise<void>;
  /** Crash test hooks for the embedded PostgreSQL (absent when DATABASE_URL points elsewhere). */
  postgres?: { kill(): Promise<void>; restart(): Promise<void>; pid(): number | undefined };
}

export async function startLocalStack(options: {
  config?: StackConfig;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Receives every service's stdout and stderr instead of this process's (log capture in tests). */
  output?: (service: string, chunk: string) => void;
  /**
   * Run the production build assembled in this folder (dist/, migrations/, production node_modules) with
   * plain node, migrations by dist/migrate.js, instead of the sources with tsx.
   */
  build?: { dir: string };
}): Promise<RunningStack> {
  const config = options.config ?? stackConfigFromEnv();
  const say = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const database: LocalDatabase = await localDatabase({ callerHandlesSignals: true });
  say(
    `postgres       ready  ${database.startedHere ? 'embedded' : 'external'} ${new URL(database.url).host} (data ${process.env.HATCH_DATA_DIR ?? '.data'})`,
  );
  if (options.build) {
    say(`migrations     ready  ${await migrateFromBuild(options.build.dir, database.url)}`);
  } else {
    const applied = await migrate({ databaseUrl: database.url });
    say(`migrations     ready  ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  }

  const children: { service: StackService; child: ServiceProcess }[] = [];
  let stopping = false;
  let resolveExited: () => void = () => {};
  const exited = new Promise<void>((r) => {
    resolveExited = r;
  });

  const stop = async () => {
    if (stopping) return exited;
    stopping = true;
    for (const { service, child } of [...children].reverse()) {
      const exit = await child.stop('SIGTERM', 10_000);
      say(`${service.name.padEnd(14)} stopped (exit ${exit.code ?? exit.signal})`);
    }
    await database.stop();
    say('postgres       stopped');
    resolveExited();
    return exited;
  };

  // Never leave services behind if this process dies of an error.
  process.once('exit', () => {
    for (const { child } of children) if (child.running()) child.child.kill('SIGTERM');
  });
  const killed = new Set<ServiceProcess>();
  const launch = async (service: StackService) => {
    const build = options.build;
    const output = options.output;
    const child = startServiceProcess({
      entry: build ? join(build.dir, 'dist', `${service.bundle}.js`) : join(root, service.entry),
      cwd: build?.dir ?? root,
      env: { ...options.env, ...service.env },
      output: output ? (chunk) => output(service.name, chunk) : 'inherit',
      // Its own process group: a terminal Ctrl-C reaches only this supervisor, which then stops the
      // services in order (APIs first) instead of all at once.
      detached: true,
    });
    const slot = children.findIndex((c) => c.service.name === service.name);
    if (slot >= 0) children[slot] = { service, child };
    else children.push({ service, child });
    void child.exited.then(({ code, signal }) => {
      if (!stopping && !killed.has(child)) {
        say(`${service.name} exited unexpectedly (${code ?? signal}); stopping everything`);
        void stop();
      }
    });
    await waitReady(service, child, 60_000);
  };
  const find = (name: string) => {
    const found = children.find((c) => c.service.name === name);
    if (!found) throw new Error(`no service ${name} in this stack`);
    return found;
  };
  try {
    for (const service of stackServices(config, database.url)) {
      await launch(service);
      say(`${service.name.padEnd(14)} ready  ${service.banner}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const server = database.server;
  return {
    databaseUrl: database.url,
    stop,
    exited,
    services: children.map((c) => c.service.name),
    pid: (name) => find(name).child.pid,
    async kill(name) {
      const { child } = find(name);
      killed.add(child);
      await child.stop('SIGKILL');
    },
    async restart(name) {
      await launch(find(name).service);
    },
    postgres: server && {
      kill: () => server.kill(),
      restart: () => server.restart(),
      pid: () => server.pid(),
    },
  };
}
