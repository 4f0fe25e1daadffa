// The event types customers subscribe to, and the body each delivery carries: `{ type, timestamp, data }`.
// Derived from one log event (plus what the notifier knows about the event's message), deterministically,
// so a retry or a replay sends the same bytes under the same webhook-id.
import { z } from 'zod';
import type { ConsentEvent } from '../consent/consent.ts';
import type { Channel, MessageEvent } from '../messages/events.ts';

export const webhookEventTypes = [
  'message.queued',
  'message.scheduled',
  'message.sent',
  'message.delivered',
  'message.undelivered',
  'message.failed',
  'message.received',
  'message.cancelled',
  'contact.opted_out',
  'contact.opted_in',
] as const;
export const webhookEventTypeSchema = z.enum(webhookEventTypes);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

const isoTimestamp = z.iso.datetime({ offset: true });

export const messageWebhookDataSchema = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  channel: z.enum(['sms', 'mms', 'email']),
  direction: z.enum(['outbound', 'inbound']),
  from: z.string(),
  to: z.string(),
  status: z.enum(['queued', 'scheduled', 'sent', 'delivered', 'undelivered', 'failed', 'received', 'cancelled']),
  provider: z.string().nullable(),
  providerMessageId: z.string().nullable().optional(),
  reason: z.string().optional(),
  attempts: z.number().int().optional(),
  sendAt: isoTimestamp.optional(),
  body: z.string().optional(),
  subject: z.string().nullable().optional(),
});

export const consentWebhookDataSchema = z.object({
  channel: z.enum(['sms', 'email']),
  /** The contact's address. */
  address: z.string(),
  /** Our number or address the contact opted out of (or back in to). */
  sender: z.string(),
  source: z.enum(['keyword', 'unsubscribe']),
  keyword: z.string().nullable(),
  messageId: z.uuid().nullable(),
});

const envelope = <T extends z.ZodType>(types: readonly WebhookEventType[], data: T) =>
  z.object({ type: z.enum(types as [WebhookEventType, ...WebhookEventType[]]), timestamp: isoTimestamp, data });

export const messageWebhookPayloadSchema = envelope(
  webhookEventTypes.filter((t) => t.startsWith('message.')),
  messageWebhookDataSchema,
);
export const consentWebhookPayloadSchema = envelope(
  ['contact.opted_out', 'contact.opted_in'],
  consentWebhookDataSchema,
);
export type WebhookPayload = z.infer<typeof messageWebhookPayloadSchema> | z.infer<typeof consentWebhookPayloadSchema>;

/** What the notifier keeps about a message from its MessageRequested / MessageReceived. */
export interface MessageContext {
  messageId: string;
  accountId: string;
  conversationId: string;
  channel: Channel;
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
}

/** The message facts an event carries itself (content events) or that `context` supplies (outcomes). */
export function messageContextOf(event: MessageEvent, accountId: string): MessageContext | null {
  if (event.type !== 'MessageRequested' && event.type !== 'MessageReceived') return null;
  const { messageId, conversationId, channel, from, to } = event.data;
  const direction = event.type === 'MessageReceived' ? 'inbound' : 'outbound';
  return { messageId, accountId, conversationId, channel, direction, from, to };
}

/** The body for a message event, or null for events customers are not told about (retries, dispatch start). */
export function messageWebhookPayload(event: MessageEvent, context: MessageContext): WebhookPayload | null {
  const { messageId, conversationId, channel, direction, from, to } = context;
  const base = { messageId, conversationId, channel, direction, from, to };
  switch (event.type) {
    case 'MessageRequested': {
      const scheduled = event.data.sendAt !== undefined;
      return {
        type: scheduled ? 'message.scheduled' : 'message.queued',
        timestamp: event.data.requestedAt,
        data: {
          ...base,
          status: scheduled ? 'scheduled' : 'queued',
          provider: null,
          ...(event.data.sendAt ? { sendAt: event.data.sendAt } : {}),
        },
      };
    }
    case 'MessageReceived':
      return {
        type: 'message.received',
        timestamp: event.data.receivedAt,
        data: {
          ...base,
          status: 'received',
          provider: event.data.provider,
          providerMessageId: event.data.providerMessageId,
          body: event.data.body,
          subject: event.data.subject,
        },
      };
    case 'MessageSent':
      return {
        type: 'message.sent',
        timestamp: event.data.sentAt,
        data: {
          ...base,
          status: 'sent',
          provider: event.data.provider,
          providerMessageId: event.data.providerMessageId,
          attempts: event.data.attempt,
        },
      };
    case 'MessageDelivered':
      return {
        type: 'message.delivered',
        timestamp: event.data.deliveredAt,
        data: {
          ...base,
          status: 'delivered',
          provider: event.data.provider,
          providerMessageId: event.data.providerMessageId,
        },
      };
    case 'MessageUndelivered':
      return {
        type: 'message.undelivered',
        timestamp: event.data.reportedAt,
        data: {
          ...base,
          status: 'undelivered',
          provider: event.data.provider,
          providerMessageId: event.data.providerMessageId,
          reason: event.data.reason,
        },
      };
    case 'MessageFailed':
      return {
        type: 'message.failed',
        timestamp: event.data.failedAt,
        data: {
          ...base,
          status: 'failed',
          provider: event.data.provider,
          reason: event.data.reason,
          attempts: event.data.attempts,
        },
      };
    case 'MessageCancelled':
      return {
        type: 'message.cancelled',
        timestamp: event.data.cancelledAt,
        data: { ...base, status: 'cancelled', provider: null },
      };
    default:
      return null;
  }
}

export function consentWebhookPayload(event: ConsentEvent): WebhookPayload {
  const { channel, address, sender, source, keyword, messageId, changedAt } = event.data;
  return {
    type: event.type === 'ContactOptedOut' ? 'contact.opted_out' : 'contact.opted_in',
    timestamp: changedAt,
    data: { channel, address, sender, source, keyword, messageId },
  };
}

/** Whether an endpoint subscribed to `type` (null: to every type). */
export const endpointWants = (eventTypes: readonly string[] | null, type: string) =>
  eventTypes === null || eventTypes.includes(type);
