// For tests and local runs before the inbox is mounted on the API server: serves the inbox and passes
// every /api request through to the real services (streams included, byte for byte).
import http from 'node:http';
import Fastify from 'fastify';
import type { OperationsSources } from '../operations-route.ts';
import { registerWebInbox } from '../plugin.ts';

export interface InboxHostOptions {
  /** The command API (sends, webhooks); also the query API when it is mounted there. */
  commandUrl: string;
  /** The query API when it runs on its own port. */
  queryUrl?: string;
  operations?: OperationsSources;
  port?: number;
}

const streamPath = /^\/api\/(stream|conversations\/[^/]+\/stream)(\?|$)/;
const queryPath = /^\/api\/(conversations|stream|messages\/[0-9a-f-]{36})(\/|\?|$)/;

function passThrough(req: http.IncomingMessage, res: http.ServerResponse, upstream: string) {
  const target = new URL(req.url ?? '/', upstream);
  const forward = http.request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502 }));
  });
  res.on('close', () => forward.destroy());
  req.pipe(forward);
}

export async function startInboxHost(options: InboxHostOptions) {
  // Live streams can be cut and refused for a while, to watch clients reconnect and resume.
  const streams = new Set<http.ServerResponse>();
  let refuseStreamsUntil = 0;
  const app = Fastify({
    forceCloseConnections: true,
    serverFactory: (handler) =>
      http.createServer((req, res) => {
        const path = req.url ?? '/';
        if (!path.startsWith('/api/') || path.startsWith('/api/inbox/')) return handler(req, res);
        if (streamPath.test(path)) {
          if (Date.now() < refuseStreamsUntil) {
            res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
            res.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }));
            return;
          }
          streams.add(res);
          res.on('close', () => streams.delete(res));
        }
        const upstream =
          options.queryUrl && req.method === 'GET' && queryPath.test(path) ? options.queryUrl : options.commandUrl;
        passThrough(req, res, upstream);
      }),
  });
  await registerWebInbox(app, { operations: options.operations });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  return {
    url: address,
    /** Cuts every open stream and answers new ones 503 for `ms`. */
    interruptStreams(ms: number) {
      refuseStreamsUntil = Date.now() + ms;
      for (const res of streams) res.destroy();
    },
    close: () => app.close(),
  };
}
