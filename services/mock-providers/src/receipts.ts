// Posts signed webhooks (delivery receipts, contact replies) to our callback base URL. A callback that
// is down gets a few tries with backoff, then the post is dropped and logged: the mock never crashes.
import type { Logger } from '@hatch/platform';
import { webhookHeaders } from '@hatch/platform';

export interface WebhookPosterOptions {
  callbackBaseUrl: string;
  webhookSecret: string | undefined;
  attempts: number;
  providerId: string;
  log: Logger;
}

export class WebhookPoster {
  private inFlight = 0;
  dropped = 0;
  delivered = 0;

  constructor(private readonly options: WebhookPosterOptions) {}

  get pending() {
    return this.inFlight;
  }

  /** One POST; resolves with the HTTP status or rejects when there was no answer. */
  async postOnce(path: string, payload: unknown): Promise<number> {
    const raw = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-hatch-provider': this.options.providerId,
    };
    if (this.options.webhookSecret) Object.assign(headers, webhookHeaders(this.options.webhookSecret, raw));
    const res = await fetch(new URL(path, this.options.callbackBaseUrl), {
      method: 'POST',
      headers,
      body: raw,
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** Fire and forget after `delayMs`, retried on no answer or a 5xx/429. */
  post(path: string, payload: unknown, delayMs: number): void {
    this.deliver(() => this.postOnce(path, payload), delayMs, path);
  }

  /** Runs `send` (one POST in any protocol, resolving with its status) after `delayMs`, with the same retries. */
  deliver(send: () => Promise<number>, delayMs: number, label: string): void {
    this.inFlight++;
    const attempt = async (n: number): Promise<void> => {
      try {
        const status = await send();
        if (status < 500 && status !== 429) {
          this.delivered++;
          if (status >= 400) this.options.log.warn({ path: label, status }, 'webhook refused by callback');
          return;
        }
        throw new Error(`callback answered ${status}`);
      } catch (error) {
        if (n + 1 >= this.options.attempts) {
          this.dropped++;
          this.options.log.warn({ path: label, err: (error as Error).message, attempts: n + 1 }, 'webhook dropped');
          return;
        }
        await sleep(250 * 2 ** n);
        return attempt(n + 1);
      }
    };
    setTimeout(() => {
      attempt(0)
        .catch(() => {})
        .finally(() => this.inFlight--);
    }, delayMs);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
