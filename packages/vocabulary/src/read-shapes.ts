// What the query API answers and the inbox reads: one definition, validated on both sides.
// zod/mini, because the inbox already bundles it (not the full zod); fastify's zod type
// provider accepts these schemas as they are.
import * as z from 'zod/mini';
import { channels, directions, messageStatuses } from './messages.ts';

export const channelSchema = z.enum(channels);
export const directionSchema = z.enum(directions);
export const messageStatusSchema = z.enum(messageStatuses);

const instant = (description = 'ISO 8601 timestamp') => z.string().check(z.describe(description));

export const conversationSchema = z.object({
  id: z.uuid(),
  participants: z.array(z.string()),
  channels: z.array(channelSchema),
  messageCount: z.number().check(z.int()),
  firstMessageAt: instant(),
  lastActivityAt: instant(),
  lastMessage: z.object({
    id: z.uuid(),
    direction: directionSchema,
    channel: channelSchema,
    preview: z.string(),
  }),
  /** The contact behind each participant that has one (our own numbers usually have none). */
  contacts: z.optional(
    z.array(z.object({ address: z.string(), contactId: z.uuid(), displayName: z.nullable(z.string()) })),
  ),
});

export const messageSchema = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  direction: directionSchema,
  channel: channelSchema,
  from: z.string(),
  to: z.string(),
  body: z.string(),
  attachments: z.array(z.string()),
  subject: z.nullable(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  replyTo: z.nullable(z.string()),
  status: messageStatusSchema,
  sendAt: z.nullable(instant('A scheduled send: when it is due (status scheduled until then)')),
  cancelledAt: z.nullable(instant()),
  provider: z.nullable(z.string()),
  providerMessageId: z.nullable(z.string()),
  attempts: z.number().check(z.int()),
  lastError: z.nullable(z.string()),
  errorCode: z.nullable(z.string()),
  timestamp: z.nullable(instant('The timestamp the client or provider put on the message')),
  createdAt: instant('When it was accepted (outbound) or received (inbound)'),
  nextAttemptAt: z.nullable(instant()),
  sentAt: z.nullable(instant()),
  deliveredAt: z.nullable(instant()),
  undeliveredAt: z.nullable(instant()),
  failedAt: z.nullable(instant()),
  statusChangedAt: z.nullable(instant()),
});

export const statusChangeSchema = z.object({
  position: z.string(),
  type: z.string(),
  status: z.string().check(z.describe('The status this event reports; the message status only moves forward')),
  occurredAt: instant(),
  recordedAt: instant(),
  provider: z.nullable(z.string()),
  providerMessageId: z.nullable(z.string()),
  attempt: z.nullable(z.number().check(z.int())),
  reason: z.nullable(z.string()),
  providerStatus: z.nullable(z.number().check(z.int())),
  errorCode: z.nullable(z.string()),
  dueAt: z.nullable(instant()),
});

export const messageWithHistorySchema = z.extend(messageSchema, { history: z.array(statusChangeSchema) });

/** The `data` of a live-stream event (its SSE `id` is the log position, its `event` the event type). */
export const liveChangeSchema = z.object({
  position: z.string(),
  type: z.string(),
  messageId: z.uuid(),
  conversationId: z.nullable(z.uuid()),
  status: z.string(),
  occurredAt: instant(),
  recordedAt: instant(),
});

export type Conversation = z.infer<typeof conversationSchema>;
export type Message = z.infer<typeof messageSchema>;
export type StatusChange = z.infer<typeof statusChangeSchema>;
export type MessageWithHistory = z.infer<typeof messageWithHistorySchema>;
export type LiveChange = z.infer<typeof liveChangeSchema>;
