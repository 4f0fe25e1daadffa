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

/** What the provider says it has for one of our messages (asked after a call whose result is unknown). */
export type LookupAnswer =
  | { kind: 'found'; providerMessageId: string }
  | { kind: 'not_found' }
  /** The lookup itself failed or the provider cannot tell: the caller goes on as if not found. */
  | { kind: 'unknown'; detail: string | null };

export interface SentMessageQuery {
  message: OutboundMessage;
  /** The provider's id for the send, when an earlier answer carried one (the exact lookup). */
  providerMessageId: string | null;
  /** No call for this message can be older (ms epoch): lookups that match on content ignore older ones. */
  sinceMs: number;
}

export interface ProviderClient {
  /** Provider id recorded in events (`messaging-provider`, `xillio-backup`, ...). */
  readonly id: string;
  send(message: OutboundMessage, idempotencyKey: string): Promise<ProviderResponse>;
  /**
   * Whether the provider already has the message (real Twilio and SendGrid ignore idempotency keys, so a
   * second call after a timeout would send it twice). Absent: the provider cannot be asked.
   */
  lookup?(query: SentMessageQuery): Promise<LookupAnswer>;
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

/**
 * A failure after which the provider may have the message anyway: the request could have been taken before
 * the answer was lost (timeouts, resets, unknown network errors), a 5xx can come after the provider stored
 * it, a 409 says the same key is still in flight there. Refused connections and 429s never reached a send.
 */
export function isAmbiguousFailure(reason: string, providerStatus: number | null): boolean {
  if (providerStatus !== null)
    return providerStatus >= 500 || providerStatus === 409 || reason === 'accepted_without_id';
  return reason === 'timeout' || reason === 'connection_reset' || reason === 'network_error';
}

/** Whether an outcome says the provider is unhealthy (feeds its circuit breaker). 429 is load, not illness. */
export function breakerSignal(classified: Classified): 'success' | 'failure' | 'neutral' {
  if (classified.kind === 'accepted' || classified.kind === 'rejected') return 'success';
  if (classified.providerStatus === 429 || classified.providerStatus === 409) return 'neutral';
  return 'failure';
}
