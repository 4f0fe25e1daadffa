// One delivery attempt on the wire: POST the body with the Standard Webhooks headers, outside any database
// transaction, with a hard timeout and a cap on how much of the answer is read (a receiver cannot make us
// buffer megabytes or hold a slot forever).
import http from 'node:http';
import https from 'node:https';
import { signWebhook } from '@hatch/domain';
import { checkLiteralHost, publicOnlyLookup, UnsafeTargetError } from './safe-target.ts';

// Kept-alive connections: the lookup (and so the address check) runs whenever a connection is made.
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface DeliveryRequest {
  url: string;
  webhookId: string;
  /** Each signs (space-separated `v1,…`): after a rotation the receiver may still hold the previous one. */
  secrets: readonly string[];
  body: string;
  /** Seconds since the epoch, signed with the body. */
  timestampSeconds: number;
}

export interface DeliveryPolicy {
  timeoutMs: number;
  maxResponseBytes: number;
  /** Production: public addresses only (checked after DNS). */
  publicOnly: boolean;
  userAgent?: string;
}

export type DeliveryOutcome =
  | { kind: 'response'; status: number; latencyMs: number; responseBody: string }
  | { kind: 'error'; error: string; latencyMs: number; unsafe: boolean };

export function deliverWebhook(request: DeliveryRequest, policy: DeliveryPolicy): Promise<DeliveryOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (error: unknown) =>
      finish({
        kind: 'error',
        error: error instanceof Error ? error.message : String(error),
        latencyMs: elapsed(),
        unsafe: error instanceof UnsafeTargetError,
      });
    let url: URL;
    try {
      url = new URL(request.url);
      if (policy.publicOnly) {
        if (url.protocol !== 'https:') throw new UnsafeTargetError('only https endpoints are called in production');
        checkLiteralHost(url.hostname);
      }
    } catch (error) {
      fail(error);
      return;
    }
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: 'POST',
      ...(policy.publicOnly ? { lookup: publicOnlyLookup } : {}),
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(request.body),
        'user-agent': policy.userAgent ?? 'Hatch-Webhooks/1.0',
        'webhook-id': request.webhookId,
        'webhook-timestamp': String(request.timestampSeconds),
        'webhook-signature': request.secrets
          .map((secret) => signWebhook(secret, request.webhookId, request.timestampSeconds, request.body))
          .join(' '),
      },
    });
    timer = setTimeout(() => req.destroy(new Error(`no answer within ${policy.timeoutMs} ms`)), policy.timeoutMs);
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          kind: 'response',
          status: res.statusCode ?? 0,
          latencyMs: elapsed(),
          responseBody: Buffer.concat(chunks).toString('utf8'),
        });
      res.on('data', (chunk: Buffer) => {
        const room = policy.maxResponseBytes - size;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += chunk.length;
        // Enough read: the status is what counts; drop the rest of a large answer.
        if (size >= policy.maxResponseBytes) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', fail);
      // Closed before its end (the timeout cut a trickling answer): not an answer.
      res.on('close', () => fail(new Error(`the answer was cut off after ${policy.timeoutMs} ms or less`)));
    });
    req.end(request.body);
  });
}

/** 2xx delivered; 410 Gone: the endpoint is gone for good; everything else is tried again. */
export function classifyOutcome(outcome: DeliveryOutcome): 'delivered' | 'gone' | 'retry' {
  if (outcome.kind === 'error') return 'retry';
  if (outcome.status >= 200 && outcome.status < 300) return 'delivered';
  if (outcome.status === 410) return 'gone';
  return 'retry';
}
