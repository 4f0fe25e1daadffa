import { createLogger, createMetricsRegistry } from '@hatch/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerOperations } from './operations.ts';
import { Problem } from './problem.ts';
import { createHttpServer } from './server.ts';

describe('http server conventions', () => {
  let app: Awaited<ReturnType<typeof createHttpServer>>;
  beforeAll(async () => {
    app = await createHttpServer({
      logger: createLogger('test', { level: 'silent' }),
      bodyLimit: 1024,
      openApi: { title: 't', version: '1' },
    });
    registerOperations(app, { registry: createMetricsRegistry('test'), ready: async () => true });
    app.post(
      '/things',
      { schema: { body: z.object({ name: z.string().min(1), count: z.number().int() }).strict() } },
      async (request) => {
        if (request.body.name === 'taken')
          throw new Problem(409, 'conflict', 'Already exists', { detail: 'name taken' });
        return { ok: true };
      },
    );
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers invalid bodies with problem+json naming each field', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: '', count: 'x', extra: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body.type).toBe('https://hatch.dev/problems/validation');
    const fields = body.errors.map((e: { field: string }) => e.field).join(' ');
    expect(fields).toContain('name');
    expect(fields).toContain('count');
  });

  it('maps thrown problems, unknown routes, wrong content types and oversized bodies to problem+json', async () => {
    const conflict = await app.inject({ method: 'POST', url: '/things', payload: { name: 'taken', count: 1 } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().detail).toBe('name taken');
    const missing = await app.inject({ method: 'GET', url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    const text = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });
    expect(text.statusCode).toBe(415);
    expect(text.headers['content-type']).toContain('application/problem+json');
    const big = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(2000), count: 1 } });
    expect(big.statusCode).toBe(413);
    const malformed = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().type).toBe('https://hatch.dev/problems/malformed-json');
  });

  it('serves health, readiness, metrics, an OpenAPI document and echoes request ids', async () => {
    expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('http_requests_total');
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/things']).toBeDefined();
    const res = await app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
});
