// HTTP clients for the two provider APIs (modelled on Twilio for SMS/MMS and SendGrid v3 for email).
// Keep-alive connections; every failure to get an answer is reported as a NetworkFailure, never thrown.
import http from 'node:http';
import https from 'node:https';
import type {
  LookupAnswer,
  NetworkFailure,
  OutboundMessage,
  ProviderClient,
  ProviderResponse,
  SentMessageQuery,
} from './provider-client.ts';
import { parseRetryAfter } from './retry-policy.ts';

export interface HttpProviderOptions {
  id: string;
  baseUrl: string;
  timeoutMs: number;
  /** Sockets kept per provider (default 64). */
  maxSockets?: number;
  apiKey?: string;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function networkFailure(error: unknown): NetworkFailure {
  const code = (error as { code?: string }).code;
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'ABORT_ERR') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection_reset';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  return 'network_error';
}

/** One POST of `body` (its content type in `headers`); resolves with the answer or rejects with a coded error. */
export function postBody(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<RawAnswer> {
  return httpRequest(agent, 'POST', url, headers, body, timeoutMs);
}

/** One GET (a provider lookup); resolves with the answer or rejects with a coded error. */
export function getAnswer(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<RawAnswer> {
  return httpRequest(agent, 'GET', url, headers, null, timeoutMs);
}

function httpRequest(
  agent: http.Agent,
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string>,
  body: string | null,
  timeoutMs: number,
): Promise<RawAnswer> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method,
        agent,
        headers: body === null ? headers : { 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    // A whole-request deadline (socket timeouts only measure idle time).
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('provider timeout'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (body === null) req.end();
    else req.end(body);
  });
}

/**
 * A lookup's answer from a GET: `found(answer)` picks the provider message id out of a 200; 404 (or a 200
 * that names none) is `not_found`; anything else, or no answer, is `unknown`.
 */
export async function lookupAnswer(
  get: () => Promise<RawAnswer>,
  found: (answer: RawAnswer) => string | null,
): Promise<LookupAnswer> {
  try {
    const answer = await get();
    if (answer.status === 404) return { kind: 'not_found' };
    if (answer.status !== 200) return { kind: 'unknown', detail: `http_${answer.status}` };
    const id = found(answer);
    return id ? { kind: 'found', providerMessageId: id } : { kind: 'not_found' };
  } catch (error) {
    return { kind: 'unknown', detail: networkFailure(error) };
  }
}

/** A JSON body, or null when it is not JSON. */
export function jsonBody(answer: RawAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return null;
  }
}

/** Keep-alive sockets to one provider. */
export function providerAgent(baseUrl: string, maxSockets = 64): http.Agent {
  const agentOptions = { keepAlive: true, maxSockets };
  return baseUrl.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
}

abstract class HttpProviderClient implements ProviderClient {
  readonly id: string;
  protected readonly agent: http.Agent;

  constructor(protected readonly options: HttpProviderOptions) {
    this.id = options.id;
    this.agent = providerAgent(options.baseUrl, options.maxSockets);
  }

  protected abstract path: string;
  protected abstract payload(message: OutboundMessage): unknown;
  protected abstract providerMessageId(answer: RawAnswer): string | null;

  async send(message: OutboundMessage, idempotencyKey: string): Promise<ProviderResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    try {
      const answer = await postBody(
        this.agent,
        new URL(this.path, this.options.baseUrl),
        headers,
        JSON.stringify(this.payload(message)),
        this.options.timeoutMs,
      );
      const ok = answer.status >= 200 && answer.status < 300;
      return {
        kind: 'answer',
        status: answer.status,
        retryAfterMs: parseRetryAfter(headerValue(answer.headers['retry-after']), Date.now()),
        providerMessageId: ok ? this.providerMessageId(answer) : null,
        detail: ok ? null : errorDetail(answer.body),
      };
    } catch (error) {
      return { kind: 'no_answer', failure: networkFailure(error), detail: (error as Error).message ?? null };
    }
  }

  /**
   * The scaffold protocol answers `GET /v1/messages/by-message-id/{our id}` with the send it took under
   * that message id (`{"id": …}`) or 404.
   */
  lookup(query: SentMessageQuery): Promise<LookupAnswer> {
    const headers: Record<string, string> = {};
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const url = new URL(
      `/v1/messages/by-message-id/${encodeURIComponent(query.message.messageId)}`,
      this.options.baseUrl,
    );
    return lookupAnswer(
      () => getAnswer(this.agent, url, headers, this.options.timeoutMs),
      (answer) => {
        const id = (jsonBody(answer) as { id?: unknown } | null)?.id;
        return typeof id === 'string' && id.length > 0 ? id : null;
      },
    );
  }

  close() {
    this.agent.destroy();
  }
}

export const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Provider error text (`message` / `errors[0].message`), short, for the event reason. */
export function errorDetail(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; errors?: Array<{ message?: unknown }> };
    const text = parsed.message ?? parsed.errors?.[0]?.message;
    return typeof text === 'string' ? text.slice(0, 120) : null;
  } catch {
    return null;
  }
}

/** Twilio-like: `POST /v1/messages` → 201 `{"id": "SM…", "status": "queued"}`. */
export class SmsProviderClient extends HttpProviderClient {
  protected path = '/v1/messages';

  protected payload(m: OutboundMessage) {
    return {
      from: m.from,
      to: m.to,
      type: m.channel === 'mms' ? 'mms' : 'sms',
      body: m.body,
      attachments: m.attachments,
      // Our id comes back in delivery receipts (like a StatusCallback URL parameter).
      message_id: m.messageId,
    };
  }

  protected providerMessageId(answer: RawAnswer) {
    try {
      const id = (JSON.parse(answer.body) as { id?: unknown }).id;
      return typeof id === 'string' && id.length > 0 ? id : null;
    } catch {
      return null;
    }
  }
}

/** SendGrid-like: `POST /v3/mail/send` → 202 with the id in `X-Message-Id`. */
export class EmailProviderClient extends HttpProviderClient {
  protected path = '/v3/mail/send';

  protected payload(m: OutboundMessage) {
    const addresses = (list: string[]) => list.map((email) => ({ email }));
    return {
      personalizations: [
        {
          to: [{ email: m.to }],
          ...(m.cc.length ? { cc: addresses(m.cc) } : {}),
          ...(m.bcc.length ? { bcc: addresses(m.bcc) } : {}),
          // Our id comes back in delivery receipts (a SendGrid custom arg).
          custom_args: { message_id: m.messageId },
        },
      ],
      from: { email: m.from },
      ...(m.replyTo ? { reply_to: { email: m.replyTo } } : {}),
      subject: m.subject ?? '',
      content: [{ type: 'text/html', value: m.body }],
      ...(m.attachments.length ? { attachments: m.attachments.map((url) => ({ url })) } : {}),
    };
  }

  protected providerMessageId(answer: RawAnswer) {
    const id = headerValue(answer.headers['x-message-id']);
    return id && id.length > 0 ? id : null;
  }
}
