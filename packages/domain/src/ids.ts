// Deterministic ids (UUID v5 style, SHA-1 over a namespace and parts): where the outside world
// retries (webhooks, sends with an Idempotency-Key) the same input yields the same id, so the
// re-append is a no-op in the log.
import { hash as digestOf, randomUUID } from 'node:crypto';

export function deterministicUuid(namespace: string, ...parts: string[]): string {
  // One-shot digest of the same bytes the streaming form hashed (a Hash object per id was ~4% of a send's CPU).
  const hash = digestOf('sha1', `${namespace}\u0000${parts.join('\u0000')}`, 'buffer');
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50; // version 5
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const newId = () => randomUUID();

/** Inbound: the provider's own message id identifies the message, so a re-delivered webhook maps to it. */
export const inboundMessageId = (provider: string, providerMessageId: string) =>
  deterministicUuid('hatch.inbound-message', provider, providerMessageId);

/** Outbound with an Idempotency-Key: scoped per client. */
export const outboundMessageId = (clientId: string, idempotencyKey: string) =>
  deterministicUuid('hatch.outbound-message', clientId, idempotencyKey);

/** The id of the n-th event of a kind in a message's stream: a retried append of the same fact is a no-op. */
export const messageEventId = (messageId: string, kind: string, discriminator = '') =>
  deterministicUuid('hatch.message-event', messageId, kind, discriminator);

export const messageStreamId = (messageId: string) => `message-${messageId}`;
