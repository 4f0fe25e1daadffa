// The published payloads, exactly: unknown fields are rejected, `type` and `attachments` may be null,
// timestamps are UTC ISO-8601. Shapes only; the messaging rules (valid numbers, channel limits) are
// the domain's decisions.
import { z } from 'zod';

// Unknown fields are rejected (each is named in the 400, see command-routes.ts).
const exact = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape);

const utcTimestamp = z.iso
  .datetime({ error: 'must be a UTC ISO-8601 timestamp, e.g. 2024-11-01T14:00:00Z' })
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'is not a real date' });
const address = z.string().min(1).max(320);
const attachmentUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const attachments = z.array(attachmentUrl).max(100).nullish();
const body = z.string();

const smsFields = {
  from: address,
  to: address,
  type: z.enum(['sms', 'mms']).nullish(),
  body,
  attachments,
  timestamp: utcTimestamp,
};

const emailFields = {
  from: address,
  to: address,
  body,
  attachments,
  timestamp: utcTimestamp,
  subject: z.string().max(998).nullish(),
  cc: z.array(address).max(100).nullish(),
  bcc: z.array(address).max(100).nullish(),
  reply_to: address.nullish(),
};

const providerMessageId = z.string().min(1).max(255);

/** Schedule the send (UTC, 1 minute to 35 days ahead); absent or null: send at once. */
const sendAt = z.iso
  .datetime({ error: 'must be a UTC ISO-8601 timestamp, e.g. 2024-11-01T14:00:00Z' })
  .nullish()
  .describe('Scheduled send time, UTC, 1 minute to 35 days ahead');
export const sendSmsPayload = exact({ ...smsFields, send_at: sendAt });
export const sendEmailPayload = exact({ ...emailFields, send_at: sendAt });
export const inboundSmsPayload = exact({ ...smsFields, messaging_provider_id: providerMessageId });
export const inboundEmailPayload = exact({ ...emailFields, xillio_id: providerMessageId });

export const smsStatusPayload = exact({
  messaging_provider_id: providerMessageId,
  message_id: z.uuid(),
  status: z.enum(['delivered', 'undelivered', 'failed']),
  error_code: z.string().max(64).nullish(),
  timestamp: utcTimestamp,
});
export const emailStatusPayload = exact({
  xillio_id: providerMessageId,
  message_id: z.uuid(),
  status: z.enum(['delivered', 'bounced', 'dropped']),
  reason: z.string().max(1000).nullish(),
  timestamp: utcTimestamp,
});

/** The email provider's unsubscribe callback (a contact clicked the unsubscribe link of `sender`'s mail). */
export const emailUnsubscribePayload = exact({
  xillio_event_id: providerMessageId,
  email: address,
  sender: address,
  timestamp: utcTimestamp,
});
export const consentChangeResponse = z.object({
  event: z.enum(['ContactOptedOut', 'ContactOptedIn']),
  position: z.string(),
});

export type SendSmsPayload = z.infer<typeof sendSmsPayload>;
export type SendEmailPayload = z.infer<typeof sendEmailPayload>;

export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, { error: '1-255 visible ASCII characters' })
    .optional(),
});

export const acceptedResponse = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  status: z.enum(['queued', 'scheduled']),
  /** Log position of the MessageRequested event: the query side can wait for it (read-your-writes). */
  position: z.string(),
});
export const cancelledResponse = z.object({
  id: z.uuid(),
  status: z.literal('cancelled'),
  position: z.string().nullable().describe('Log position of MessageCancelled (null: it was already cancelled)'),
});

export const receivedResponse = z.object({
  id: z.uuid(),
  conversationId: z.uuid(),
  status: z.literal('received'),
  position: z.string(),
});
export const receiptResponse = z.object({
  id: z.uuid(),
  event: z.enum(['MessageDelivered', 'MessageUndelivered']),
  position: z.string(),
});
