// The published payloads, exactly: unknown fields are rejected, `type` and `attachments` may be null,
// timestamps are UTC ISO-8601. Shapes only; the messaging rules (valid numbers, channel limits) are
// the domain's decisions.
import type { FieldError } from '@hatch/domain';
import { invalidRequest } from '@hatch/http';
import { z } from 'zod';

// Unknown fields are rejected (each is named in the 400, see command-routes.ts).
const exact = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape);

/** How far ahead of our clock a client's or provider's stamp may be (clock skew, not the future). */
export const maxClockAheadMs = 24 * 3_600_000;
// An instant the read tables can hold and that is plausibly a clock reading: ISO-8601 with Z or an offset,
// from 1970 to one day ahead, stored normalised to UTC. Year 0000 was accepted once and froze the projector.
const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO-8601 instant with Z or an offset, e.g. 2024-11-01T14:00:00Z' })
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'is not a real date' })
  .refine((s) => Date.parse(s) >= 0 && Date.parse(s) <= Date.now() + maxClockAheadMs, {
    error: 'must be between 1970-01-01T00:00:00Z and one day from now',
  })
  .transform((s) => new Date(s).toISOString())
  .meta({ example: '2024-11-01T14:00:00Z' });
const utcTimestamp = instant;
// Text the log can store: PostgreSQL's jsonb refuses U+0000 and unpaired surrogates (found by bin/fuzz:
// such a body failed the append and answered 503 instead of 400).
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (s: string) => !s.includes('\u0000') && !unpairedSurrogate.test(s);
const text = () => z.string().refine(storable, { error: 'must not contain U+0000 or unpaired surrogates' });
const address = text().min(1).max(320);
// Examples in the OpenAPI document (the docs show them; the fuzzer starts its cases from them).
const phone = address.meta({ example: '+12016661234' });
const otherPhone = address.meta({ example: '+18045551234' });
const email = address.meta({ example: 'user@usehatchapp.com' });
const otherEmail = address.meta({ example: 'contact@gmail.com' });
const attachmentUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const attachments = z.array(attachmentUrl).max(100).nullish();
const body = text().meta({ example: 'Hello' });

const smsFields = {
  from: phone,
  to: otherPhone,
  type: z.enum(['sms', 'mms']).nullish(),
  body,
  attachments,
  timestamp: utcTimestamp,
};

// A send's `timestamp` only records the client's clock: absent, it is when we received the request.
const sendTimestamp = { timestamp: utcTimestamp.optional() };

const emailFields = {
  from: email,
  to: otherEmail,
  body,
  attachments,
  timestamp: utcTimestamp,
  subject: text().max(998).nullish(),
  cc: z.array(address).max(100).nullish(),
  bcc: z.array(address).max(100).nullish(),
  reply_to: address.nullish(),
};

const providerMessageId = text().min(1).max(255).meta({ example: 'provider-message-1' });

/** Schedule the send (UTC, 1 minute to 35 days ahead); absent or null: send at once. */
const sendAt = z.iso
  .datetime({ error: 'must be a UTC ISO-8601 timestamp, e.g. 2024-11-01T14:00:00Z' })
  .nullish()
  .describe('Scheduled send time, UTC, 1 minute to 35 days ahead');
export const sendSmsPayload = exact({ ...smsFields, ...sendTimestamp, send_at: sendAt });
export const sendEmailPayload = exact({ ...emailFields, ...sendTimestamp, send_at: sendAt });
export const inboundSmsPayload = exact({ ...smsFields, messaging_provider_id: providerMessageId });
export const inboundEmailPayload = exact({ ...emailFields, xillio_id: providerMessageId });

export const smsStatusPayload = exact({
  messaging_provider_id: providerMessageId,
  message_id: z.uuid(),
  status: z.enum(['delivered', 'undelivered', 'failed']),
  error_code: text().max(64).nullish(),
  timestamp: utcTimestamp,
});
export const emailStatusPayload = exact({
  xillio_id: providerMessageId,
  message_id: z.uuid(),
  status: z.enum(['delivered', 'bounced', 'dropped']),
  reason: text().max(1000).nullish(),
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
  idempotencyKey: z
    .string()
    .optional()
    .describe('The Idempotency-Key this send was recorded under (ours when none was given): retry with it'),
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
  /**
   * false: recorded, but held: no MessageSent has named this provider message id yet, so the message's
   * status moves only when one does (never, for an id no send of ours got).
   */
  applied: z.boolean(),
});

/** Domain field names → the payloads'. */
const wireNames: Record<string, string> = { replyTo: 'reply_to', channel: 'type', sendAt: 'send_at' };
export const invalidPayload = (errors: readonly FieldError[]) => invalidRequest(errors, wireNames);
