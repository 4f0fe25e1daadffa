// Request and header timeouts close a client that trickles its request, but never a long response (SSE);
// a NUL byte in any query parameter is a 400 naming it.
import { connect } from 'node:net';
import { createLogger } from '@hatch/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpServer } from './server.ts';

describe('http server timeouts and query bytes', () => {
  let app: Awaited<ReturnType<typeof createHttpServer>>;
  let port: number;
  beforeAll(async () => {
    app = await createHttpServer({
      logger: createLogger('test', { level: 'silent' }),
      timeouts: { requestMs: 1500, headersMs: 800 },
    });
    app.get('/search', { schema: { querystring: z.object({ q: z.string().optional() }) } }, async () => ({ ok: true }));
    // An SSE-shaped response longer than both timeouts.
    app.get('/stream', async (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 8; i++) {
        reply.raw.write(`data: ${i}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      reply.raw.end();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it('closes a connection whose headers never finish', async () => {
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /search HTTP/1.1\r\nHost: x\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('close', () => resolve(data));
    });
    const seconds = (performance.now() - started) / 1000;
    expect(answer).toContain('408');
    expect(seconds).toBeLessThan(5);
  });

  it('keeps a stream open past the request timeout', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/stream`);
    const text = await response.text();
    expect(text).toContain('data: 7');
  });

  it('answers a NUL byte in a query parameter with 400 naming it', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/search?q=a%00b`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { errors: { field: string }[] };
    expect(body.errors.map((e) => e.field)).toEqual(['querystring.q']);
  });
});
