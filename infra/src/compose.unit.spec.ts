// No Docker engine here: validate what can be validated without one — the compose file parses, every
// service has an image or build and a health check where others depend on it, every entry file and
// migration command it names exists, and the Dockerfile's stages line up.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
}

describe('docker-compose.yml and Dockerfile', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const services = compose.services;

  it('declares the infrastructure and every Hatch service', () => {
    for (const name of [
      'postgres',
      'kurrentdb',
      'kafka',
      'migrate',
      'command-api',
      'query-api',
      'dispatcher',
      'projector',
      'mock-providers',
    ]) {
      expect(services[name], name).toBeDefined();
      expect(services[name]?.image ?? services[name]?.build, `${name} has an image or build`).toBeTruthy();
    }
  });

  it('names only entry files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      const entry = service.command?.find((part) => part.endsWith('.ts'));
      if (entry) expect(existsSync(join(root, entry)), `${name}: ${entry}`).toBe(true);
    }
  });

  it('waits on health checks for everything it depends on', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(services[dependency]?.healthcheck, `${dependency} health check`).toBeDefined();
      }
    }
  });

  it('wires every Hatch service to the database and the log by environment', () => {
    for (const name of ['command-api', 'query-api', 'dispatcher', 'projector', 'migrate']) {
      const env = services[name]?.environment ?? {};
      expect(env.DATABASE_URL, `${name} DATABASE_URL`).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(env.EVENT_STORE, `${name} EVENT_STORE`).toBeTruthy();
    }
  });

  it('has a multi-stage Dockerfile that copies what the services need', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const match of dockerfile.matchAll(/--from=(\S+)/g)) expect(stages).toContain(match[1]);
    for (const copied of ['pnpm-lock.yaml', 'migrations/', 'packages/', 'services/'])
      expect(dockerfile).toContain(copied);
  });
});
