// No Docker engine here: validate what can be validated without one. The compose file parses; every
// Hatch process runs the production build (never tsx) with one shared log configuration; every URL a
// service is given names a compose service on a port that service listens on; every long-running service
// has a health check on its own port; the Dockerfile ships a production-only image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { productionEntries, root } from './production-build.ts';

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).default({}),
  depends_on: z.record(z.string(), z.object({ condition: z.string(), required: z.boolean().optional() })).default({}),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  expose: z.array(z.string()).default([]),
  ports: z.array(z.string()).default([]),
  profiles: z.array(z.string()).optional(),
});
type ComposeService = z.infer<typeof serviceSchema>;
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) });

const loadCompose = () =>
  composeSchema.parse(parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true })).services;

/** What the shell would see with nothing set: `${NAME:-default}` → default. */
const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

/** Settings that must be identical in every Hatch process: the event log and the dispatch transport. */
const sharedLogKey = (key: string) =>
  ['EVENT_STORE', 'DATABASE_URL', 'EVENTSTORE_URL', 'DISPATCH_TRANSPORT'].includes(key) || key.startsWith('KAFKA_');

const isHatchService = (service: ComposeService) => service.build !== undefined;
/** Jobs others wait for with service_completed_successfully (a health check means nothing for them). */
const oneShotJobs = (services: Record<string, ComposeService>) =>
  new Set(
    Object.values(services).flatMap((s) =>
      Object.entries(s.depends_on)
        .filter(([, d]) => d.condition === 'service_completed_successfully')
        .map(([name]) => name),
    ),
  );

/** Ports a service listens on: its *_PORT settings (Hatch services), `expose` and published container ports. */
const listenPorts = (service: ComposeService) => [
  ...new Set([
    ...Object.entries(service.environment)
      .filter(([key]) => key.endsWith('_PORT'))
      .map(([, value]) => interpolate(value)),
    ...service.expose,
    ...service.ports.map((mapping) => mapping.split(':').at(-1) ?? ''),
  ]),
];

/** Every address an environment value points at: URLs, and host:port lists such as KAFKA_BROKERS. */
function addressesIn(value: string): { host: string; port: string }[] {
  const text = interpolate(value);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = new URL(text);
    const port = url.port || { 'postgres:': '5432', 'http:': '80', 'https:': '443' }[url.protocol] || '';
    return [{ host: url.hostname, port }];
  }
  if (/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/.test(text))
    return text.split(',').map((part) => {
      const [host = '', port = ''] = part.split(':');
      return { host, port };
    });
  return [];
}

/** The problems the compose file has; the tests below run this on the real file and on broken copies. */
function composeProblems(services: Record<string, ComposeService>): string[] {
  const problems: string[] = [];
  const hatch = Object.entries(services).filter(([, s]) => isHatchService(s));
  const jobs = oneShotJobs(services);

  // One log configuration: every Hatch process has every shared key, with the same value.
  const keys = new Set(hatch.flatMap(([, s]) => Object.keys(s.environment).filter(sharedLogKey)));
  for (const key of keys) {
    const values = new Map(hatch.map(([name, s]) => [name, s.environment[key]]));
    const distinct = new Set(values.values());
    if (distinct.size > 1)
      problems.push(`${key} disagrees: ${[...values].map(([name, v]) => `${name}=${v ?? '(unset)'}`).join(', ')}`);
  }

  for (const [name, service] of Object.entries(services)) {
    for (const [key, value] of Object.entries(isHatchService(service) ? service.environment : {})) {
      for (const { host, port } of addressesIn(value)) {
        const target = services[host];
        if (!target) problems.push(`${name} ${key}=${value}: ${host} is not a compose service`);
        else if (!listenPorts(target).includes(port))
          problems.push(
            `${name} ${key}=${value}: ${host} does not listen on ${port} (${listenPorts(target).join(', ')})`,
          );
      }
      // Inside a container a loopback listener is unreachable from every other container.
      if (key.endsWith('_HOST') && value !== '0.0.0.0')
        problems.push(`${name} ${key}=${value}: listen on 0.0.0.0 inside a container`);
    }
    for (const [dependency, { condition }] of Object.entries(service.depends_on)) {
      if (!services[dependency]) problems.push(`${name} depends on ${dependency}, which is not a service`);
      else if (condition === 'service_healthy' && !services[dependency]?.healthcheck)
        problems.push(`${name} waits for ${dependency} to be healthy, which has no health check`);
    }
    if (!jobs.has(name) && !service.healthcheck) problems.push(`${name} has no health check`);
    if (!isHatchService(service)) continue;

    const command = service.command ?? [];
    if (command.some((part) => part === 'tsx' || part.endsWith('.ts') || part.includes('tsx/')))
      problems.push(`${name} runs tsx: ${command.join(' ')}`);
    const entry = command.find((part) => part.startsWith('dist/'));
    const built = Object.keys(productionEntries).map((output) => `dist/${output}.js`);
    if (command[0] !== 'node' || !entry || !built.includes(entry))
      problems.push(`${name} does not run a production bundle (${built.join(', ')}): ${command.join(' ')}`);
    // A Hatch service's health check probes a port it listens on.
    const probe = service.healthcheck?.test.join(' ').match(/https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)\//);
    if (service.healthcheck && (!probe || !listenPorts(service).includes(probe[1] ?? '')))
      problems.push(`${name} health check does not probe one of its ports (${listenPorts(service).join(', ')})`);
  }
  return problems;
}

describe('docker-compose.yml', () => {
  const services = loadCompose();
  const copy = () => loadCompose();

  it('declares the infrastructure and every Hatch process', () => {
    for (const name of [
      'postgres',
      'kurrentdb',
      'kafka',
      'migrate',
      'command-api',
      'query-api',
      'dispatcher',
      'relay',
      'projector',
      'notifier',
      'mock-providers',
    ])
      expect(services[name]?.image ?? services[name]?.build, `${name} has an image or build`).toBeTruthy();
  });

  it('has no problems: one log configuration, reachable URLs, health checks, production bundles', () => {
    expect(composeProblems(services)).toEqual([]);
  });

  it('defaults the log to PostgreSQL, the adapter every end-to-end test runs against', () => {
    expect(interpolate(services['command-api']?.environment.EVENT_STORE ?? '')).toBe('postgres');
    expect(services.kurrentdb?.profiles, 'KurrentDB is opt-in').toEqual(['eventstoredb']);
  });

  it('fails when one service is on another log', () => {
    const broken = copy();
    const dispatcher = broken.dispatcher as ComposeService;
    dispatcher.environment = { ...dispatcher.environment, EVENT_STORE: 'eventstoredb' };
    expect(composeProblems(broken)).toEqual([
      expect.stringMatching(/^EVENT_STORE disagrees: .*dispatcher=eventstoredb/),
    ]);
    const relay = broken.relay as ComposeService;
    relay.environment = { ...relay.environment, KAFKA_BROKERS: 'kafka:9093' };
    delete (broken.projector as ComposeService).environment.DATABASE_URL;
    const problems = composeProblems(broken).join('\n');
    expect(problems).toMatch(/KAFKA_BROKERS disagrees: .*relay=kafka:9093/);
    expect(problems).toMatch(/kafka does not listen on 9093/);
    expect(problems).toMatch(/DATABASE_URL disagrees: .*projector=\(unset\)/);
  });

  it('fails when a URL names no compose service, a port nobody listens on, or a loopback listener', () => {
    const broken = copy();
    const dispatcher = broken.dispatcher as ComposeService;
    dispatcher.environment = {
      ...dispatcher.environment,
      SMS_BACKUP_PROVIDER_URL: 'http://127.0.0.1:8003',
      EMAIL_BACKUP_PROVIDER_URL: 'http://mock-providers:8009',
      DISPATCHER_HOST: '127.0.0.1',
    };
    expect(composeProblems(broken).sort()).toEqual([
      'dispatcher DISPATCHER_HOST=127.0.0.1: listen on 0.0.0.0 inside a container',
      'dispatcher EMAIL_BACKUP_PROVIDER_URL=http://mock-providers:8009: mock-providers does not listen on 8009 (8001, 8002, 8003, 8004)',
      'dispatcher SMS_BACKUP_PROVIDER_URL=http://127.0.0.1:8003: 127.0.0.1 is not a compose service',
    ]);
  });

  it('fails when a service lacks a health check or runs tsx', () => {
    const broken = copy();
    delete (broken.relay as ComposeService).healthcheck;
    (broken['query-api'] as ComposeService).command = ['node', '--import', 'tsx', 'services/query-api/src/main.ts'];
    expect(composeProblems(broken).sort()).toEqual([
      expect.stringMatching(/^query-api does not run a production bundle/),
      expect.stringMatching(/^query-api runs tsx/),
      'relay has no health check',
    ]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1] ?? '');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('copies between stages that exist', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const match of dockerfile.matchAll(/--from=(\S+)/g)) expect(stages).toContain(match[1]);
  });

  it('builds with the locked dependencies and installs only production ones for the runtime', () => {
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile && pnpm build/);
    expect(dockerfile).toMatch(/pnpm install --prod --frozen-lockfile/);
    expect(runtime).toMatch(/COPY --from=dependencies \/app\/node_modules\/ node_modules\//);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist\/ dist\//);
    // package.json carries "type": "module" (the bundles are ES modules); migrations for dist/migrate.js.
    expect(runtime).toMatch(/COPY package\.json /);
    expect(runtime).toMatch(/COPY migrations\/ migrations\//);
    expect(runtime, 'the runtime stage copies no sources').not.toMatch(/COPY (\.|packages|services|infra)\b/);
  });

  it('runs a production bundle as a non-root user', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    const cmd = z.array(z.string()).parse(JSON.parse(runtime.match(/^CMD (.+)$/m)?.[1] ?? 'null'));
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).not.toMatch(/tsx|\.ts\b/);
    expect(Object.keys(productionEntries).map((o) => `dist/${o}.js`)).toContain(cmd.at(-1));
  });

  it('has a .dockerignore that keeps the host installs, builds, data and history out', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.data', '.tmp', '.git', 'infra/kafka/libs'])
      expect(ignored, entry).toContain(entry);
  });
});
