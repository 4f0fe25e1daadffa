// The query API's contract: zod schemas for every parameter and answer (they are the validation, the
// types and the OpenAPI document).
import { channelSchema } from '@hatch/domain';
import { z } from 'zod';

/** An opaque log position (from a command response, a listing's `X-Hatch-Position`, or an SSE `id`). */
export const positionSchema = z
  .string()
  .regex(/^[0-9A-Za-z._:-]{1,128}$/, 'not a log position')
  .describe('Opaque log position; compare only for equality or order as strings');

export const readYourWritesQuery = {
  after: positionSchema
    .optional()
    .describe('Wait (bounded) until the read model has applied this log position; same as header X-Hatch-Min-Position'),
};

export const cursorSchema = z.string().regex(/^[A-Za-z0-9_-]{1,512}$/, 'not a cursor');
const limitSchema = z.coerce.number().int().min(1).max(200).default(50);

export const listConversationsQuery = z.object({
  participant: z
    .string()
    .min(3)
    .max(320)
    .optional()
    .describe('A phone number (E.164 or national formatting) or an email address taking part'),
  channel: channelSchema.optional(),
  limit: limitSchema,
  cursor: cursorSchema.optional().describe('`nextCursor` of the previous page'),
  ...readYourWritesQuery,
});

export const pageQuery = z.object({
  limit: limitSchema,
  cursor: cursorSchema.optional(),
  ...readYourWritesQuery,
});

export const readQuery = z.object({ ...readYourWritesQuery });
export const idParams = z.object({ id: z.uuid() });

export const streamQuery = z.object({
  lastEventId: positionSchema
    .optional()
    .describe('Resume after this position (for clients that cannot send the Last-Event-ID header)'),
});

const instant = z.string().describe('ISO 8601 timestamp');
const directionSchema = z.enum(['outbound', 'inbound']);

export const conversationSchema = z.object({
  id: z.uuid(),
  participants: z.array(z.string()),
  channels: z.array(channelSchema),
  messageCount: z.number().int(),
  firstMessageAt: instant,
  lastActivityAt: instant,
  lastMessage: z.object({
    id: z.uuid(),
    direction: directionSchema,
    channel: channelSchema,
    preview: z.string(),
  }),
  /** The contact behind each participant that has one (our own numbers usually have none). */
  contacts: z
    .array(z.object({ address: z.string(), contactId: z.uuid(), displayName: z.string().nullable() }))
    .optional(),
});

export const statusSchema = z.enum([
  'scheduled',
  'queued',
  'received',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'cancelled',
]);

export const messageSchema = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  direction: directionSchema,
  channel: channelSchema,
  from: z.string(),
  to: z.string(),
  body: z.string(),
  attachments: z.array(z.string()),
  subject: z.string().nullable(),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  replyTo: z.string().nullable(),
  status: statusSchema,
  sendAt: instant.nullable().describe('A scheduled send: when it is due (status scheduled until then)'),
  cancelledAt: instant.nullable(),
  provider: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  errorCode: z.string().nullable(),
  timestamp: instant.nullable().describe('The timestamp the client or provider put on the message'),
  createdAt: instant.describe('When it was accepted (outbound) or received (inbound)'),
  nextAttemptAt: instant.nullable(),
  sentAt: instant.nullable(),
  deliveredAt: instant.nullable(),
  undeliveredAt: instant.nullable(),
  failedAt: instant.nullable(),
  statusChangedAt: instant.nullable(),
});

export const statusChangeSchema = z.object({
  position: z.string(),
  type: z.string(),
  status: z.string().describe('The status this event reports; the message status only moves forward'),
  occurredAt: instant,
  recordedAt: instant,
  provider: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  reason: z.string().nullable(),
  providerStatus: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  dueAt: instant.nullable(),
});

export const messageWithHistorySchema = messageSchema.extend({ history: z.array(statusChangeSchema) });

export const conversationPageSchema = z.object({
  items: z.array(conversationSchema),
  nextCursor: z.string().nullable(),
});
export const messagePageSchema = z.object({
  items: z.array(messageSchema),
  nextCursor: z.string().nullable(),
});

/** The `data` of a live-stream event (its SSE `id` is the log position, its `event` the event type). */
export const liveChangeSchema = z.object({
  position: z.string(),
  type: z.string(),
  messageId: z.uuid(),
  conversationId: z.uuid().nullable(),
  status: z.string(),
  occurredAt: instant,
  recordedAt: instant,
});

export const problemSchema = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string().optional() })
  .passthrough();

export type Conversation = z.infer<typeof conversationSchema>;
export type Message = z.infer<typeof messageSchema>;
export type StatusChange = z.infer<typeof statusChangeSchema>;
export type LiveChange = z.infer<typeof liveChangeSchema>;
