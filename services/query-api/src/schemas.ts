// The query API's contract: zod schemas for every parameter and answer (they are the validation, the
// types and the OpenAPI document). The shapes the web inbox reads too live in @hatch/vocabulary.
import { Problem } from '@hatch/http';
import { channelSchema, conversationSchema, messageSchema } from '@hatch/vocabulary';
import { z } from 'zod';

export type { Conversation, LiveChange, Message, StatusChange } from '@hatch/vocabulary';
export {
  conversationSchema,
  liveChangeSchema,
  messageSchema,
  messageWithHistorySchema,
  statusChangeSchema,
} from '@hatch/vocabulary';

/** An opaque log position (from a command response, a listing's `X-Hatch-Position`, or an SSE `id`). */
export const positionSchema = z
  .string()
  .regex(/^[0-9A-Za-z._:-]{1,128}$/, 'not a log position')
  .describe('Opaque log position; compare only for equality or order as strings');

/** 400 naming the parameter (`querystring.after`, `headers.last-event-id`, …) that held no usable position. */
export const invalidPosition = (field: string) =>
  new Problem(400, 'validation', 'Invalid request', {
    detail: `${field}: not a log position`,
    errors: [{ field, message: 'not a log position' }],
  });

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
  channel: z.optional(channelSchema),
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

export const conversationPageSchema = z.object({
  items: z.array(conversationSchema),
  nextCursor: z.string().nullable(),
});
export const messagePageSchema = z.object({
  items: z.array(messageSchema),
  nextCursor: z.string().nullable(),
});

export const problemSchema = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string().optional() })
  .passthrough();
