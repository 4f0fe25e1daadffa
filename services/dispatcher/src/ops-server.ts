// /health (alive, with breaker states), /ready (subscribed and database reachable), /metrics.
import http from 'node:http';
import type { Registry } from 'prom-client';

export function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  health: () => Record<string, unknown>;
  ready: () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;
}): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const json = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(JSON.stringify(body));
    };
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/health') return json(200, { status: 'ok', ...options.health() });
      if (req.method === 'GET' && path === '/ready') {
        const { ready, detail } = await options.ready();
        return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', ...detail });
      }
      if (req.method === 'GET' && path === '/metrics') {
        const body = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType });
        return res.end(body);
      }
      return json(404, { type: 'about:blank', title: 'Not Found', status: 404 }, 'application/problem+json');
    } catch (error) {
      return json(
        500,
        { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: String(error) },
        'application/problem+json',
      );
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
