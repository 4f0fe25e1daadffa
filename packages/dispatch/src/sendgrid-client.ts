// SendGrid v3 Mail Send on the wire: `POST /v3/mail/send` with `Authorization: Bearer <API key>`;
// 202 with `X-Message-Id` (the provider message id; Event Webhook `sg_message_id`s start with it);
// 429 carries `X-RateLimit-Reset` (unix seconds), which the retry honours.
import type http from 'node:http';
import { convert } from 'html-to-text';
import {
  errorDetail,
  getAnswer,
  headerValue,
  jsonBody,
  lookupAnswer,
  networkFailure,
  postBody,
  providerAgent,
} from './http-provider-clients.ts';
import type {
  LookupAnswer,
  OutboundMessage,
  ProviderClient,
  ProviderResponse,
  SentMessageQuery,
} from './provider-client.ts';
import { parseRetryAfter } from './retry-policy.ts';

export interface SendGridClientOptions {
  id: string;
  /** `https://api.sendgrid.com` for the real service. */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxSockets?: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * SendGrid attaches only inline base64 content, and our attachments are URLs: they are carried as links
 * at the end of the body (both parts), so nothing is fetched on the send path.
 */
function htmlWithAttachmentLinks(message: OutboundMessage): string {
  if (message.attachments.length === 0) return message.body;
  const links = message.attachments.map((url) => `<li><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></li>`);
  const block = `<p>Attachments:</p><ul>${links.join('')}</ul>`;
  // Inside the document when it is one (content after </body> is dropped by mail clients and html-to-text).
  const end = message.body.search(/<\/body>/i);
  return end >= 0 ? `${message.body.slice(0, end)}${block}${message.body.slice(end)}` : `${message.body}\n${block}`;
}

/** The Mail Send body: one personalization, `text/plain` (derived from the HTML) before `text/html`. */
export function sendGridMailBody(message: OutboundMessage) {
  const addresses = (list: string[]) => list.map((email) => ({ email }));
  const html = htmlWithAttachmentLinks(message);
  return {
    personalizations: [
      {
        to: [{ email: message.to }],
        ...(message.cc.length ? { cc: addresses(message.cc) } : {}),
        ...(message.bcc.length ? { bcc: addresses(message.bcc) } : {}),
        // Comes back on every Event Webhook event, so events find the message's stream.
        custom_args: { message_id: message.messageId },
      },
    ],
    from: { email: message.from },
    ...(message.replyTo ? { reply_to: { email: message.replyTo } } : {}),
    subject: message.subject ?? '',
    // SendGrid requires text/plain first when both are given.
    content: [
      { type: 'text/plain', value: convert(html, { wordwrap: false }) || ' ' },
      { type: 'text/html', value: html },
    ],
  };
}

/** Milliseconds until `X-RateLimit-Reset` (unix seconds), else Retry-After, else null. */
export function sendGridRetryAfterMs(headers: http.IncomingHttpHeaders, nowMs: number): number | null {
  const reset = headerValue(headers['x-ratelimit-reset']);
  if (reset && /^\d{1,12}$/.test(reset.trim())) return Math.max(0, Number(reset) * 1000 - nowMs);
  return parseRetryAfter(headerValue(headers['retry-after']), nowMs);
}

export class SendGridClient implements ProviderClient {
  readonly id: string;
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(private readonly options: SendGridClientOptions) {
    this.id = options.id;
    this.agent = providerAgent(options.baseUrl, options.maxSockets);
    this.url = new URL('/v3/mail/send', options.baseUrl);
  }

  async send(message: OutboundMessage, idempotencyKey: string): Promise<ProviderResponse> {
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${this.options.apiKey}`,
      'idempotency-key': idempotencyKey,
    };
    try {
      const answer = await postBody(
        this.agent,
        this.url,
        headers,
        JSON.stringify(sendGridMailBody(message)),
        this.options.timeoutMs,
      );
      const ok = answer.status >= 200 && answer.status < 300;
      const id = headerValue(answer.headers['x-message-id']);
      return {
        kind: 'answer',
        status: answer.status,
        // On a 202 X-RateLimit-Reset is only the window's end, not a wait.
        retryAfterMs:
          answer.status === 429
            ? sendGridRetryAfterMs(answer.headers, Date.now())
            : parseRetryAfter(headerValue(answer.headers['retry-after']), Date.now()),
        providerMessageId: ok && id ? id : null,
        detail: ok ? null : errorDetail(answer.body),
      };
    } catch (error) {
      return { kind: 'no_answer', failure: networkFailure(error), detail: (error as Error).message ?? null };
    }
  }

  /**
   * SendGrid keeps no idempotency key; the only lookup by our id is the Email Activity API (a paid add-on
   * whose key needs Email Activity access): `GET /v3/messages?query=unique_args['message_id']="…"`, the
   * custom arg every send carries. Its `msg_id` is the full SendGrid message id; the X-Message-Id we record
   * (and receipts match on) is its part before the first dot. Activity shows a send after some delay, which
   * is why the dispatcher asks again before each later attempt.
   */
  lookup(query: SentMessageQuery): Promise<LookupAnswer> {
    const url = new URL('/v3/messages', this.options.baseUrl);
    url.searchParams.set('query', `unique_args['message_id']="${query.message.messageId}"`);
    url.searchParams.set('limit', '10');
    return lookupAnswer(
      () => getAnswer(this.agent, url, { authorization: `Bearer ${this.options.apiKey}` }, this.options.timeoutMs),
      (answer) => {
        const list = (jsonBody(answer) as { messages?: unknown } | null)?.messages;
        const first = Array.isArray(list) ? (list[0] as { msg_id?: unknown } | undefined) : undefined;
        const id = typeof first?.msg_id === 'string' ? first.msg_id.split('.')[0] : undefined;
        return id && id.length > 0 ? id : null;
      },
    );
  }

  close() {
    this.agent.destroy();
  }
}
