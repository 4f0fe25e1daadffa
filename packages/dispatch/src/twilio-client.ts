// Twilio Programmable Messaging on the wire: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
// form-encoded, HTTP Basic `AccountSid:AuthToken`; 201 with the Message resource (`sid`, `status`), or
// Twilio's error JSON (`code`, `message`, `more_info`, `status`). The code goes into the event reason, so a
// 21211 (invalid To) reads as such in MessageFailed.
import type http from 'node:http';
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

export interface TwilioClientOptions {
  id: string;
  /** `https://api.twilio.com` for the real service. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /**
   * Where Twilio posts status callbacks (our `/api/webhooks/twilio/status`); our message id rides in its
   * query string so the callback finds the message's stream. Null: no callbacks.
   */
  statusCallbackUrl: string | null;
  timeoutMs: number;
  maxSockets?: number;
}

/** The form fields of one send, in Twilio's names (`MediaUrl` repeated per attachment). */
export function twilioMessageForm(message: OutboundMessage, statusCallbackUrl: string | null): URLSearchParams {
  const form = new URLSearchParams();
  form.set('To', message.to);
  form.set('From', message.from);
  form.set('Body', message.body);
  for (const url of message.attachments) form.append('MediaUrl', url);
  if (statusCallbackUrl) {
    const callback = new URL(statusCallbackUrl);
    callback.searchParams.set('messageId', message.messageId);
    form.set('StatusCallback', callback.toString());
  }
  return form;
}

/** `twilio 21211: The 'To' number … is not a valid phone number.` from Twilio's error JSON. */
export function twilioErrorDetail(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    const message = typeof parsed.message === 'string' ? parsed.message : null;
    if (typeof parsed.code === 'number' || typeof parsed.code === 'string')
      return `twilio ${parsed.code}${message ? `: ${message}` : ''}`.slice(0, 160);
    return message?.slice(0, 120) ?? null;
  } catch {
    return errorDetail(body);
  }
}

export class TwilioClient implements ProviderClient {
  readonly id: string;
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly authorization: string;

  constructor(private readonly options: TwilioClientOptions) {
    this.id = options.id;
    this.agent = providerAgent(options.baseUrl, options.maxSockets);
    this.url = new URL(`/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`, options.baseUrl);
    this.authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  }

  async send(message: OutboundMessage, idempotencyKey: string): Promise<ProviderResponse> {
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: this.authorization,
      // Twilio ignores it; the mock dedupes repeated sends on it, as the dispatcher's contract expects.
      'idempotency-key': idempotencyKey,
    };
    const form = twilioMessageForm(message, this.options.statusCallbackUrl).toString();
    try {
      const answer = await postBody(this.agent, this.url, headers, form, this.options.timeoutMs);
      const ok = answer.status >= 200 && answer.status < 300;
      return {
        kind: 'answer',
        status: answer.status,
        retryAfterMs: parseRetryAfter(headerValue(answer.headers['retry-after']), Date.now()),
        providerMessageId: ok ? sidOf(answer.body) : null,
        detail: ok ? null : twilioErrorDetail(answer.body),
      };
    } catch (error) {
      return { kind: 'no_answer', failure: networkFailure(error), detail: (error as Error).message ?? null };
    }
  }

  /**
   * Twilio keeps no idempotency key and no field of ours on a Message resource, so the lookup is its Messages
   * list filtered the way the API allows (`To`, `From`, `DateSent>=` the day of the first possible call),
   * matched on the body and a `date_created` no older than that call. With a sid: the Message resource itself.
   */
  lookup(query: SentMessageQuery): Promise<LookupAnswer> {
    const headers = { authorization: this.authorization };
    if (query.providerMessageId) {
      const url = new URL(
        this.url.pathname.replace(/\.json$/, `/${encodeURIComponent(query.providerMessageId)}.json`),
        this.url,
      );
      return lookupAnswer(
        () => getAnswer(this.agent, url, headers, this.options.timeoutMs),
        (answer) => sidOf(answer.body),
      );
    }
    const url = new URL(this.url);
    url.searchParams.set('To', query.message.to);
    url.searchParams.set('From', query.message.from);
    url.searchParams.set('DateSent>', new Date(query.sinceMs).toISOString().slice(0, 10));
    url.searchParams.set('PageSize', '50');
    return lookupAnswer(
      () => getAnswer(this.agent, url, headers, this.options.timeoutMs),
      (answer) => {
        const list = (jsonBody(answer) as { messages?: unknown } | null)?.messages;
        if (!Array.isArray(list)) return null;
        const match = (list as Array<{ sid?: unknown; body?: unknown; date_created?: unknown }>).find(
          (m) =>
            m.body === query.message.body &&
            typeof m.date_created === 'string' &&
            Date.parse(m.date_created) >= query.sinceMs - 1000,
        );
        return typeof match?.sid === 'string' ? match.sid : null;
      },
    );
  }

  close() {
    this.agent.destroy();
  }
}

function sidOf(body: string): string | null {
  try {
    const sid = (JSON.parse(body) as { sid?: unknown }).sid;
    return typeof sid === 'string' && sid.length > 0 ? sid : null;
  } catch {
    return null;
  }
}
