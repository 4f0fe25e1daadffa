// The event contract of a message's stream `message-<messageId>`. Everything else (dispatcher,
// projections, audits) depends on these shapes: change them only by adding a new schema version.
import { channels } from '@hatch/vocabulary';
import { z } from 'zod';
import { localAccountId } from '../accounts/local-account.ts';

export type { Channel } from '@hatch/vocabulary';
export const channelSchema = z.enum(channels);

const isoTimestamp = z.iso.datetime({ offset: true });

/** What an outbound send or an inbound message carries, already normalised. */
const messageContent = {
  messageId: z.uuid(),
  conversationId: z.uuid(),
  channel: channelSchema,
  /** E.164 phone numbers or lower-cased email addresses. */
  from: z.string().min(1),
  to: z.string().min(1),
  body: z.string(),
  attachments: z.array(z.string()),
  subject: z.string().nullable(),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  replyTo: z.string().nullable(),
  /** The timestamp the client or provider put on the message. */
  timestamp: isoTimestamp,
  /**
   * The account the message belongs to (added in v2; the conversation id derives from it and the
   * participants). Absent on v1 events, which all came from the one implicit customer: read them with
   * `messageAccountOf`, which names the local account.
   */
  accountId: z.string().min(1).optional(),
};

export const messageRequestedSchema = z.object({
  ...messageContent,
  clientId: z.string().min(1),
  /** SMS/MMS segments the body needs (1 for email). */
  segments: z.number().int().nonnegative(),
  requestedAt: isoTimestamp,
  /** Fingerprint of the HTTP request (added in v1, optional): a retried Idempotency-Key is compared on it. */
  requestHash: z.string().optional(),
  /** Set on the automatic answers to STOP/START/HELP: they go out even to an opted-out contact. */
  purpose: z.enum(['consent_reply']).optional(),
  /** A scheduled send: dispatched when due (UTC), not before. Absent: dispatched at once. */
  sendAt: isoTimestamp.optional(),
});

export const messageReceivedSchema = z.object({
  ...messageContent,
  provider: z.string().min(1),
  providerMessageId: z.string().min(1),
  receivedAt: isoTimestamp,
  /**
   * Files that arrived inside the message (SendGrid Inbound Parse; added in v2, optional): what they were,
   * not their content, which is not kept.
   */
  attachmentFiles: z
    .array(z.object({ filename: z.string(), contentType: z.string(), size: z.number().int().nonnegative() }))
    .optional(),
});

export const messageSentSchema = z.object({
  messageId: z.uuid(),
  provider: z.string().min(1),
  providerMessageId: z.string().min(1),
  attempt: z.number().int().positive(),
  sentAt: isoTimestamp,
});

export const messageRetryScheduledSchema = z.object({
  messageId: z.uuid(),
  provider: z.string().min(1),
  attempt: z.number().int().positive(),
  reason: z.string().min(1),
  providerStatus: z.number().int().nullable(),
  /** When the next attempt is due; honours the provider's Retry-After. */
  dueAt: isoTimestamp,
  scheduledAt: isoTimestamp,
});

export const messageFailedSchema = z.object({
  messageId: z.uuid(),
  reason: z.string().min(1),
  attempts: z.number().int().nonnegative(),
  provider: z.string().nullable(),
  providerStatus: z.number().int().nullable(),
  failedAt: isoTimestamp,
});

export const messageDeliveredSchema = z.object({
  messageId: z.uuid(),
  provider: z.string().min(1),
  providerMessageId: z.string().min(1),
  deliveredAt: isoTimestamp,
});

export const messageUndeliveredSchema = z.object({
  messageId: z.uuid(),
  provider: z.string().min(1),
  providerMessageId: z.string().min(1),
  reason: z.string().min(1),
  errorCode: z.string().nullable(),
  reportedAt: isoTimestamp,
});

/** A scheduled send fell due and a dispatcher took it: from here on it can no longer be cancelled. */
export const messageDispatchStartedSchema = z.object({
  messageId: z.uuid(),
  startedAt: isoTimestamp,
});

/** A scheduled send was cancelled before dispatch began. */
export const messageCancelledSchema = z.object({
  messageId: z.uuid(),
  clientId: z.string().min(1),
  cancelledAt: isoTimestamp,
});

export const messageEventSchemas = {
  MessageRequested: messageRequestedSchema,
  MessageReceived: messageReceivedSchema,
  MessageSent: messageSentSchema,
  MessageRetryScheduled: messageRetryScheduledSchema,
  MessageFailed: messageFailedSchema,
  MessageDelivered: messageDeliveredSchema,
  MessageUndelivered: messageUndeliveredSchema,
  MessageDispatchStarted: messageDispatchStartedSchema,
  MessageCancelled: messageCancelledSchema,
} as const;

export type MessageEventType = keyof typeof messageEventSchemas;
export const messageEventTypes = Object.keys(messageEventSchemas) as MessageEventType[];

export type MessageEvent = {
  [K in MessageEventType]: { type: K; data: z.infer<(typeof messageEventSchemas)[K]> };
}[MessageEventType];

export type MessageEventOf<K extends MessageEventType> = Extract<MessageEvent, { type: K }>;

export const currentSchemaVersion = 2;

/** The account of a message's content event: v1 events (no `accountId`) belong to the local account. */
export const messageAccountOf = (data: { accountId?: string | undefined }) => data.accountId ?? localAccountId;

export const isMessageEventType = (type: string): type is MessageEventType => type in messageEventSchemas;

/** Validates an event read from (or about to be written to) the log. */
export function parseMessageEvent(type: string, data: unknown): MessageEvent {
  if (!isMessageEventType(type)) throw new TypeError(`unknown message event type ${type}`);
  return { type, data: messageEventSchemas[type].parse(data) } as MessageEvent;
}
