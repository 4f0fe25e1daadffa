// Twilio Programmable Messaging on the wire: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
// form-encoded, HTTP Basic `AccountSid:AuthToken`; 201 with the Message resource (`sid`, `status`), or
// Twilio's error JSON (`code`, `message`, `more_info`, `status`). The code goes into the event reason, so a
// 21211 (invalid To) reads as such in MessageFailed.
import type http from 'node:http';
import { errorDetail, headerValue, networkFailure, postBody, providerAgent } from './http-provider-clients.ts';
import type { OutboundMessage, ProviderClient, ProviderResponse } from './provider-client.ts';
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
