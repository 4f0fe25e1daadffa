// Which of our messages a provider's message id names. Providers' account-wide callbacks (a Twilio status
// callback configured in the console, a SendGrid event without our custom arg) carry only their own id; the
// dispatcher appends this link on a stream derived from (provider, providerMessageId) right before the
// MessageSent naming the same id, so a webhook that can read the MessageSent can read the link too, from the
// log itself (no projection lag).
import { z } from 'zod';
import { deterministicUuid } from '../ids.ts';

export const providerMessageLinkedSchema = z.object({
  provider: z.string().min(1),
  providerMessageId: z.string().min(1),
  messageId: z.uuid(),
  linkedAt: z.iso.datetime({ offset: true }),
});
export type ProviderMessageLinked = z.infer<typeof providerMessageLinkedSchema>;

export const providerMessageLinkedType = 'ProviderMessageLinked';

export const providerMessageCategory = 'providermessage';
export const providerMessageStreamId = (provider: string, providerMessageId: string) =>
  `${providerMessageCategory}-${deterministicUuid('hatch.provider-message', provider, providerMessageId)}`;

/** One link per (provider id, message): a retried append of the same link is a no-op. */
export const providerMessageLinkEventId = (provider: string, providerMessageId: string, messageId: string) =>
  deterministicUuid('hatch.provider-message-link', provider, providerMessageId, messageId);

/** The link event (id, type, data) for the stream `providerMessageStreamId(provider, providerMessageId)`. */
export function providerMessageLink(link: ProviderMessageLinked) {
  return {
    streamId: providerMessageStreamId(link.provider, link.providerMessageId),
    id: providerMessageLinkEventId(link.provider, link.providerMessageId, link.messageId),
    type: providerMessageLinkedType,
    data: providerMessageLinkedSchema.parse(link),
  };
}

/**
 * The message a provider id names, from its link stream's events (oldest first); null when none does.
 * Providers' ids are unique, so more than one link means a provider reused an id: the first link stands.
 */
export function linkedMessageId(events: ReadonlyArray<{ type: string; data: unknown }>): string | null {
  for (const e of events) {
    if (e.type !== providerMessageLinkedType) continue;
    const parsed = providerMessageLinkedSchema.safeParse(e.data);
    if (parsed.success) return parsed.data.messageId;
  }
  return null;
}
