// What the dispatcher needs from a provider: send one message with our message id as the idempotency
// key, and get back either the provider's answer or why there was none. HTTP details live in the clients.
import type { Channel } from '@hatch/domain';

/** The message as a provider needs it (already normalised by the command side). */
export interface OutboundMessage {
  messageId: string;
  channel: Channel;
  from: string;
  to: string;
  body: string;
  attachments: string[];
  subject: string | null;
  cc: string[];
  bcc: string[];
  replyTo: string | null;
}

export type NetworkFailure = 'timeout' | 'connection_reset' | 'connection_refused' | 'network_error';

export type ProviderResponse =
  | {
      kind: 'answer';
      status: number;
      /** From Retry-After (seconds or HTTP date), already converted to milliseconds. */
      retryAfterMs: number | null;
      /** Present on acceptance. */
      providerMessageId: string | null;
      /** Short provider error text for the log and the event reason (never the message body). */
      detail: string | null;
    }
  | { kind: 'no_answer'; failure: NetworkFailure; detail: string | null };

export interface ProviderClient {
  /** Provider id recorded in events (`messaging-provider`, `xillio-backup`, ...). */
  readonly id: string;
  send(message: OutboundMessage, idempotencyKey: string): Promise<ProviderResponse>;
}

export type Classified =
  | { kind: 'accepted'; providerMessageId: string }
  | { kind: 'retryable'; reason: string; providerStatus: number | null; retryAfterMs: number | null }
  | { kind: 'rejected'; reason: string; providerStatus: number };

/**
 * 429, 5xx, 408, 409 (same key still in flight at the provider), timeouts and resets are worth another
 * try; any other 4xx is the provider refusing this message for good.
 */
export function classifyProviderResponse(response: ProviderResponse): Classified {
  if (response.kind === 'no_answer') {
    return { kind: 'retryable', reason: response.failure, providerStatus: null, retryAfterMs: null };
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    if (response.providerMessageId) return { kind: 'accepted', providerMessageId: response.providerMessageId };
    return { kind: 'retryable', reason: 'accepted_without_id', providerStatus: status, retryAfterMs: null };
  }
  if (status === 429 || status === 408 || status === 409 || status >= 500) {
    return {
      kind: 'retryable',
      reason: status === 429 ? 'rate_limited' : `http_${status}`,
      providerStatus: status,
      retryAfterMs: response.retryAfterMs,
    };
  }
  return {
    kind: 'rejected',
    reason: response.detail ? `rejected: ${response.detail}`.slice(0, 200) : `http_${status}`,
    providerStatus: status,
  };
}

/** Whether an outcome says the provider is unhealthy (feeds its circuit breaker). 429 is load, not illness. */
export function breakerSignal(classified: Classified): 'success' | 'failure' | 'neutral' {
  if (classified.kind === 'accepted' || classified.kind === 'rejected') return 'success';
  if (classified.providerStatus === 429 || classified.providerStatus === 409) return 'neutral';
  return 'failure';
}
