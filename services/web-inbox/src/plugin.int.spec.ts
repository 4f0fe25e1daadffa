// The plugin on a real fastify server with a real Vite build into a scratch folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, isBuildStale } from './build.ts';
import { registerWebInbox } from './plugin.ts';

describe('registerWebInbox', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'web-inbox-'));
  const distDir = join(scratch, 'dist');
  const app = Fastify();

  beforeAll(async () => {
    app.get('/api/ping', async () => ({ pong: true }));
    await registerWebInbox(app, { distDir });
    await app.ready();
  }, 60_000);
  afterAll(async () => {
    await app.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('builds a missing dist and then considers it fresh', async () => {
    expect(isBuildStale(distDir)).toBe(false);
    expect(await ensureBuilt({ distDir })).toBe(false);
  });

  it('serves the inbox at / and its hashed assets with long caching', async () => {
    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<title>Hatch inbox</title>');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    expect(script).toBeDefined();
    const asset = await app.inject({ method: 'GET', url: script! });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('sends a Content-Security-Policy without inline script, never framed, and nosniff', async () => {
    for (const url of ['/', '/api/inbox/operations']) {
      const answer = await app.inject({ method: 'GET', url });
      const csp = String(answer.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("connect-src 'self'");
      expect(csp, url).not.toContain('unsafe-inline');
      expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
      expect(answer.headers['x-frame-options'], url).toBe('DENY');
    }
    // The build itself has no inline script for the policy to block.
    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    // Routes outside the inbox keep their own headers.
    expect((await app.inject({ method: 'GET', url: '/api/ping' })).headers['content-security-policy']).toBeUndefined();
  });

  it('leaves the API routes and unknown paths to the server', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/ping' })).json()).toEqual({ pong: true });
    expect((await app.inject({ method: 'GET', url: '/api/not-a-route' })).statusCode).toBe(404);
  });

  it('reports operations sources that are not configured instead of inventing figures', async () => {
    const ops = (await app.inject({ method: 'GET', url: '/api/inbox/operations' })).json();
    expect(ops.dispatcher).toEqual({
      reachable: false,
      inFlight: null,
      backlog: null,
      oldestDueSeconds: null,
      error: 'not configured',
    });
    expect(ops.providers).toEqual([]);
  });
});
