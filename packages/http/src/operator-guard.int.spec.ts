import { createLogger, createMetricsRegistry } from '@hatch/platform';
import { describe, expect, it } from 'vitest';
import { registerOperations } from './operations.ts';
import { installOperatorGuard } from './operator-guard.ts';
import { createHttpServer } from './server.ts';

const token = 'operator-token-0123456789';

async function serverGuarding(options: Parameters<typeof installOperatorGuard>[2], configured: string | null) {
  const app = await createHttpServer({
    logger: createLogger('test', { level: 'silent' }),
    openApi: { title: 't', version: '1' },
  });
  installOperatorGuard(app, configured, options);
  registerOperations(app, { registry: createMetricsRegistry('test'), ready: async () => true });
  app.get('/api/conversations', async () => ({ items: [] }));
  await app.ready();
  return app;
}

describe('operator guard', () => {
  it('guards every path but the health checks, with problem+json 401 for a missing or wrong token', async () => {
    const app = await serverGuarding({ except: ['/health', '/ready'] }, token);
    const bare = await app.inject({ url: '/api/conversations' });
    expect(bare.statusCode).toBe(401);
    expect(bare.headers['content-type']).toContain('application/problem+json');
    expect(bare.headers['www-authenticate']).toContain('Bearer');
    const wrong = await app.inject({
      url: '/api/conversations',
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await app.inject({ url: '/api/conversations?x=1', headers: { authorization: `Bearer ${token}` } });
    expect(right.statusCode).toBe(200);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    await app.close();
  });

  it('guards only the listed paths when given paths, and nothing without a token', async () => {
    const listed = await serverGuarding({ paths: ['/metrics'] }, token);
    expect((await listed.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await listed.inject({ url: '/api/conversations' })).statusCode).toBe(200);
    await listed.close();
    const open = await serverGuarding({ paths: ['/metrics'] }, null);
    expect((await open.inject({ url: '/metrics' })).statusCode).toBe(200);
    await open.close();
  });
});
