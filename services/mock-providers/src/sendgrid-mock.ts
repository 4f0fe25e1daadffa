// The SendGrid protocol of the email mock: v3 Mail Send (`POST /v3/mail/send`, `Authorization: Bearer`) →
// 202 + X-Message-Id, or SendGrid's error JSON `{"errors":[{message, field, help}]}` (400 validation, 401,
// 429 with X-RateLimit-Limit/Remaining/Reset, 500); delivery reported as Event Webhook batches (a JSON
// array of `processed` then `delivered` or `bounce`) signed with ECDSA P-256 like the Signed Event Webhook.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { sendGridSignatureHeader, sendGridTimestampHeader, signSendGridEvents } from '@hatch/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { WebhookPoster } from './receipts.ts';
import {
  jsonAnswer,
  type ReceivedMessage,
  type SendContent,
  type SendProtocol,
  type StoredAnswer,
} from './send-protocol.ts';

const emailAddress = z.object({ email: z.string().min(3), name: z.string().optional() });
export const mailSendSchema = z.object({
  personalizations: z
    .array(
      z.object({
        to: z.array(emailAddress).min(1),
        cc: z.array(emailAddress).optional(),
        bcc: z.array(emailAddress).optional(),
        custom_args: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
  from: emailAddress,
  subject: z.string().optional(),
  content: z.array(z.object({ type: z.string(), value: z.string() })).min(1),
  attachments: z.array(z.unknown()).optional(),
  custom_args: z.record(z.string(), z.string()).optional(),
});
export type MailSend = z.infer<typeof mailSendSchema>;

const sendGridHelp = 'https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors';

/** SendGrid's error body (twilio.com/docs/sendgrid/api-reference/mail-send/errors). */
export const sendGridError = (
  status: number,
  message: string,
  field: string | null,
  headers: Record<string, string> = {},
): StoredAnswer => jsonAnswer(status, { errors: [{ message, field, help: field ? sendGridHelp : null }] }, headers);

/** A P-256 key pair as SendGrid's console shows the public half: base64 DER (SPKI); private as base64 PKCS#8. */
export function generateSendGridKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

/** The pair for a configured private key (base64 PKCS#8 or PEM): the public half is what the command API needs. */
export function sendGridKeyPairFrom(privateKey: string): { publicKey: string; privateKey: string } {
  const key = privateKey.includes('BEGIN')
    ? createPrivateKey(privateKey)
    : createPrivateKey({ key: Buffer.from(privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  return { publicKey: createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64'), privateKey };
}

/** Posts one signed Event Webhook batch; resolves with the HTTP status. */
export async function postSendGridEvents(url: string, privateKey: string, events: unknown[]): Promise<number> {
  const raw = JSON.stringify(events);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'SendGrid Event API',
      [sendGridSignatureHeader]: signSendGridEvents(privateKey, timestamp, raw),
      [sendGridTimestampHeader]: timestamp,
    },
    body: raw,
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status;
}

let eventCounter = 0;

/** One Event Webhook event as SendGrid shapes it; custom args ride at the top level. */
function webhookEvent(record: ReceivedMessage, event: string, extra: Record<string, unknown>) {
  const n = (eventCounter++).toString(16).padStart(8, '0');
  return {
    email: record.to,
    timestamp: Math.floor(Date.now() / 1000),
    'smtp-id': `<${record.providerMessageId}@mock.sendgrid.net>`,
    event,
    category: [],
    sg_event_id: Buffer.from(`${event}-${record.providerMessageId}-${n}`).toString('base64url'),
    // SendGrid's form: `<X-Message-Id>.<relay suffix>`; the part before the first dot is the X-Message-Id.
    sg_message_id: `${record.providerMessageId}.recvd-mock-${n}-1-${n}-0.0`,
    ...(record.messageId ? { message_id: record.messageId } : {}),
    ...extra,
  };
}

export function sendGridProtocol(poster: WebhookPoster, eventsUrl: string, privateKey: string): SendProtocol {
  return {
    name: 'sendgrid',
    accept: (id, _m) => ({
      status: 202,
      headers: {
        'x-message-id': id,
        'x-ratelimit-limit': '600',
        'x-ratelimit-remaining': '599',
        'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60),
      },
      payload: '',
    }),
    reject: () => sendGridError(400, 'Does not contain a valid address.', 'personalizations.0.to.0.email'),
    tooMany: (seconds) =>
      sendGridError(429, 'too many requests', null, {
        'x-ratelimit-limit': '600',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + seconds),
      }),
    serverError: () => sendGridError(500, 'internal server error', null),
    receipt: (record, failed, delayMs) => {
      const outcome = failed
        ? webhookEvent(record, 'bounce', {
            reason: '550 5.1.1 The email account that you tried to reach does not exist',
            status: '5.1.1',
            type: 'bounce',
          })
        : webhookEvent(record, 'delivered', { response: '250 OK', tls: 1 });
      const batch = [webhookEvent(record, 'processed', {}), outcome];
      poster.deliver(() => postSendGridEvents(eventsUrl, privateKey, batch), delayMs, eventsUrl);
    },
  };
}

/** A contact's mail as Inbound Parse posts it: multipart/form-data with SendGrid's documented fields. */
export async function postInboundParse(
  url: string,
  m: { from: string; to: string; body: string; subject: string | null; messageId: string },
): Promise<number> {
  const form = new FormData();
  const fields: Record<string, string> = {
    headers: `Message-ID: <${m.messageId}@mock.sendgrid.net>\nFrom: ${m.from}\nTo: ${m.to}\nSubject: ${m.subject ?? ''}`,
    dkim: '{@mock.sendgrid.net : pass}',
    'content-ids': '{}',
    to: m.to,
    from: m.from,
    html: m.body,
    text: m.body.replace(/<[^>]*>/g, ''),
    sender_ip: '127.0.0.1',
    envelope: JSON.stringify({ to: [m.to], from: m.from }),
    attachments: '0',
    subject: m.subject ?? '',
    charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
    SPF: 'pass',
  };
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const res = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

/** The contact clicked the unsubscribe link of `record` (a mail this mock accepted): one signed event. */
export function sendGridUnsubscribe(record: ReceivedMessage) {
  return [webhookEvent(record, 'unsubscribe', {})];
}

type SendHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  message: SendContent,
  protocol: SendProtocol,
) => Promise<unknown>;

/** Mail Send with a Bearer key: validation and auth answer as SendGrid does, then the shared send path. */
export async function sendGridMailSend(
  request: FastifyRequest,
  reply: FastifyReply,
  handleSend: SendHandler,
  protocol: SendProtocol,
) {
  const answer = (a: StoredAnswer) => reply.code(a.status).headers(a.headers).send(a.payload);
  const key = request.headers.authorization?.slice('Bearer '.length).trim();
  if (!key) return answer(sendGridError(401, 'The provided authorization grant is invalid, expired, or revoked', null));
  const parsed = mailSendSchema.safeParse(request.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return answer(sendGridError(400, issue?.message ?? 'Bad Request', issue?.path.join('.') || null));
  }
  const m = parsed.data;
  const p = m.personalizations[0] as MailSend['personalizations'][number];
  const types = m.content.map((c) => c.type);
  // SendGrid's own rule: text/plain, when present, comes first.
  if (types.includes('text/plain') && types[0] !== 'text/plain')
    return answer(sendGridError(400, 'If present, text/plain must be first, followed by text/html', 'content'));
  return handleSend(
    request,
    reply,
    {
      messageId: p.custom_args?.message_id ?? m.custom_args?.message_id ?? null,
      from: m.from.email,
      to: (p.to[0] as { email: string }).email,
      type: 'email',
      body: m.content.find((c) => c.type === 'text/html')?.value ?? (m.content[0]?.value as string),
      contentTypes: types,
    },
    protocol,
  );
}
