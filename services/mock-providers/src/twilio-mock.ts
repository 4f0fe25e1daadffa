// The Twilio Programmable Messaging protocol of the SMS mock: `POST /2010-04-01/Accounts/{AccountSid}/
// Messages.json` (form-encoded, HTTP Basic AccountSid:AuthToken) → 201 Message resource or Twilio's error
// JSON; status callbacks (`sent`, then `delivered`/`undelivered`) posted form-encoded to the send's
// `StatusCallback`, signed with X-Twilio-Signature under the auth token the send authenticated with.
import { twilioSignature, twilioSignatureHeader } from '@hatch/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookPoster } from './receipts.ts';
import {
  jsonAnswer,
  type ReceivedMessage,
  type SendContent,
  type SendProtocol,
  type StoredAnswer,
} from './send-protocol.ts';

/** Twilio's error body (twilio.com/docs/errors): `code`, `message`, `more_info`, `status`. */
export const twilioError = (status: number, code: number, message: string): StoredAnswer =>
  jsonAnswer(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return at > 0 ? { user: decoded.slice(0, at), password: decoded.slice(at + 1) } : null;
}

/** Posts one form-encoded, Twilio-signed callback; resolves with the HTTP status. */
export async function postTwilioForm(url: string, authToken: string, fields: Array<[string, string]>): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      [twilioSignatureHeader]: twilioSignature(authToken, url, fields),
    },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A contact's message as Twilio's incoming-message webhook carries it (form fields, media as MediaUrlN). */
export function twilioIncomingFields(
  accountSid: string,
  messageSid: string,
  m: { from: string; to: string; body: string; attachments: string[] },
): Array<[string, string]> {
  return [
    ['AccountSid', accountSid],
    ['ApiVersion', '2010-04-01'],
    ['Body', m.body],
    ['From', m.from],
    ['MessageSid', messageSid],
    ['NumMedia', String(m.attachments.length)],
    ['NumSegments', '1'],
    ['SmsMessageSid', messageSid],
    ['SmsSid', messageSid],
    ['SmsStatus', 'received'],
    ['To', m.to],
    ...m.attachments.flatMap(
      (url, i): Array<[string, string]> => [
        [`MediaContentType${i}`, 'image/jpeg'],
        [`MediaUrl${i}`, url],
      ],
    ),
  ];
}

/** A Message resource as Twilio answers a create, a fetch and each item of a list. */
export function twilioMessageResource(
  accountSid: string,
  m: { sid: string; from: string; to: string; body: string; status: string; createdAt: number },
) {
  const created = new Date(m.createdAt).toUTCString();
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: created,
    // The mock hands a message to the carrier at once.
    date_sent: m.status === 'queued' ? null : created,
    date_updated: created,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil(m.body.length / 160))),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`,
  };
}

export function twilioProtocol(poster: WebhookPoster, accountSid: string, authToken: string): SendProtocol {
  const callbackFields = (
    record: ReceivedMessage,
    status: string,
    errorCode: string | null,
  ): Array<[string, string]> => [
    ['AccountSid', accountSid],
    ['ApiVersion', '2010-04-01'],
    ['From', record.from],
    ['MessageSid', record.providerMessageId ?? ''],
    ['MessageStatus', status],
    ['SmsSid', record.providerMessageId ?? ''],
    ['SmsStatus', status],
    ['To', record.to],
    ...(errorCode ? ([['ErrorCode', errorCode]] as Array<[string, string]>) : []),
  ];
  return {
    name: 'twilio',
    accept: (sid, m) =>
      jsonAnswer(201, twilioMessageResource(accountSid, { sid, ...m, status: 'queued', createdAt: Date.now() })),
    reject: (m) => twilioError(400, 21211, `The 'To' number ${m.to} is not a valid phone number.`),
    tooMany: (seconds) => ({
      ...twilioError(429, 20429, 'Too Many Requests'),
      headers: { 'content-type': 'application/json', 'retry-after': String(seconds) },
    }),
    serverError: () => twilioError(500, 20500, 'An internal server error has occurred'),
    receipt: (record, failed, delayMs) => {
      const url = record.statusCallback;
      if (!url) return;
      poster.deliver(() => postTwilioForm(url, authToken, callbackFields(record, 'sent', null)), delayMs, url);
      poster.deliver(
        () =>
          postTwilioForm(
            url,
            authToken,
            callbackFields(record, failed ? 'undelivered' : 'delivered', failed ? '30003' : null),
          ),
        delayMs + 20,
        url,
      );
    },
  };
}

type SendHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  message: SendContent,
  protocol: SendProtocol,
) => Promise<unknown>;

/** The Messages.json route; `poster` carries the callbacks (with the mock's retries). */
export function registerTwilioRoutes(app: FastifyInstance, handleSend: SendHandler, poster: WebhookPoster) {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.post<{ Params: { accountSid: string } }>(
    '/2010-04-01/Accounts/:accountSid/Messages.json',
    async (request, reply) => {
      const send = (answer: StoredAnswer) => reply.code(answer.status).headers(answer.headers).send(answer.payload);
      const auth = parseBasicAuth(request.headers.authorization);
      if (!auth || auth.user !== request.params.accountSid)
        return send(twilioError(401, 20003, 'Authentication Error - invalid username'));
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      const to = form.get('To');
      const from = form.get('From');
      const body = form.get('Body') ?? '';
      const media = form.getAll('MediaUrl');
      if (!to) return send(twilioError(400, 21604, "A 'To' phone number is required."));
      if (!from) return send(twilioError(400, 21603, "A 'From' phone number is required."));
      if (!body && media.length === 0) return send(twilioError(400, 21602, 'Message body is required.'));
      const statusCallback = form.get('StatusCallback');
      const messageId = statusCallback ? new URL(statusCallback).searchParams.get('messageId') : null;
      return handleSend(
        request,
        reply,
        { messageId, from, to, type: media.length > 0 ? 'mms' : 'sms', body, statusCallback },
        twilioProtocol(poster, auth.user, auth.password),
      );
    },
  );
}
