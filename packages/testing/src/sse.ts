// A real HTTP server-sent-events client for specs: collects each event (id, event, parsed data) and each
// comment line as they arrive, and polls for a condition.
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface SseEvent<Data = Record<string, unknown>> {
  id: string;
  event: string;
  data: Data;
}

/** Opens `url` as an event stream; `ready` resolves with the response once its head arrived. */
export function openEventStream<Data = Record<string, unknown>>(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent<Data>[] = [];
  const comments: string[] = [];
  let response: IncomingMessage | undefined;
  const ready = new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      response = res;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else {
              const i = line.indexOf(':');
              if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
            }
          }
          if (fields.id && fields.data)
            events.push({ id: fields.id, event: fields.event ?? '', data: JSON.parse(fields.data) as Data });
          end = buffer.indexOf('\n\n');
        }
      });
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
  return { events, comments, ready, close: () => response?.destroy() };
}

/** Resolves once `check` holds; throws after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
