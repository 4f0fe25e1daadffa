// One mock provider as a real HTTP server: the SMS/MMS API (Twilio-like, `POST /v1/messages` → 201
// `{id}`) or the email API (SendGrid-like, `POST /v3/mail/send` → 202 + `X-Message-Id`), with
// idempotency keys, fault injection, signed delivery receipts, contact replies and admin endpoints.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@hatch/platform';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { drawFault, type FaultSettings, type ForcedOutcome, faultSettingsSchema, forcedOutcome } from './faults.ts';
import { registerLookupRoutes } from './lookup-routes.ts';
import { WebhookPoster } from './receipts.ts';
import {
  jsonAnswer,
  type ReceivedMessage,
  type SendContent,
  type SendProtocol,
  type StoredAnswer,
} from './send-protocol.ts';
import {
  generateSendGridKeyPair,
  mailSendSchema,
  postInboundParse,
  postSendGridEvents,
  sendGridMailSend,
  sendGridProtocol,
  sendGridUnsubscribe,
} from './sendgrid-mock.ts';
import { postTwilioForm, registerTwilioRoutes, twilioIncomingFields } from './twilio-mock.ts';

export type { ReceivedMessage } from './send-protocol.ts';

export type ProviderKind = 'sms' | 'email';

export interface ReceiptSettings {
  enabled: boolean;
  delayMs: number;
  /** Share of receipts posted twice. */
  duplicateRate: number;
  /** Share of receipts held back an extra `outOfOrderDelayMs`, so they arrive after later ones. */
  outOfOrderRate: number;
  outOfOrderDelayMs: number;
  attempts: number;
}

export interface ProviderServerOptions {
  kind: ProviderKind;
  /** Provider id as our events name it (`messaging-provider`, `xillio-backup`, ...). */
  providerId: string;
  faults: FaultSettings;
  receipts: ReceiptSettings;
  callbackBaseUrl: string;
  webhookSecret: string | undefined;
  /**
   * Signs SendGrid Event Webhook posts (base64 PKCS#8 or PEM, P-256); without one the email mock makes a
   * key pair and serves its public half at `GET /admin/sendgrid/public-key`.
   */
  sendGridSigningKey?: { privateKey: string; publicKey: string };
  /** What the real providers would sign contact replies with (`/admin/reply` with `protocol`). */
  inboundAuth?: { twilioAccountSid: string; twilioAuthToken: string | null; sendGridInboundSecret: string | null };
  log: Logger;
  random?: () => number;
}

const smsSendSchema = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  type: z.enum(['sms', 'mms']).default('sms'),
  body: z.string(),
  attachments: z.array(z.string()).nullable().default([]),
  message_id: z.string().nullable().optional(),
});

const replySchema = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  body: z.string().default(''),
  type: z.enum(['sms', 'mms']).default('sms'),
  attachments: z.array(z.string()).nullable().default(null),
  subject: z.string().nullable().default(null),
  /** `twilio`: Twilio's signed incoming-message webhook; `sendgrid`: an Inbound Parse post. */
  protocol: z.enum(['scaffold', 'twilio', 'sendgrid']).default('scaffold'),
});

const unsubscribeSchema = z.object({
  /** `sendgrid`: a signed Event Webhook `unsubscribe` for the last mail this mock took from `sender` to `email`. */
  protocol: z.enum(['scaffold', 'sendgrid']).default('scaffold'),
  /** The contact who clicked the unsubscribe link. */
  email: z.string().min(1),
  /** The sender whose mail they unsubscribe from. */
  sender: z.string().min(1),
});

const problem = (reply: FastifyReply, status: number, title: string, detail?: string) =>
  reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, ...(detail ? { detail } : {}) });

// Unique, not secret: a random per-process prefix and a counter (cheaper than fresh random bytes per send).
const idPrefix = randomBytes(8).toString('hex');
let idCounter = 0;
const newProviderMessageId = (kind: ProviderKind) => {
  const suffix = (idCounter++).toString(16).padStart(16, '0');
  return kind === 'sms' ? `SM${idPrefix}${suffix}` : Buffer.from(`${idPrefix}${suffix}`, 'hex').toString('base64url');
};

export interface ProviderServer {
  app: FastifyInstance;
  messages: Map<string, ReceivedMessage>;
  faults: FaultSettings;
}

export function buildProviderServer(options: ProviderServerOptions): ProviderServer {
  const { kind, providerId, log } = options;
  const random = options.random ?? Math.random;
  const initialFaults = { ...options.faults };
  let faults = { ...options.faults };
  const messages = new Map<string, ReceivedMessage>(); // by idempotency key (or a fresh id without one)
  const answers = new Map<string, StoredAnswer>();
  const inFlight = new Set<string>();
  const poster = new WebhookPoster({
    callbackBaseUrl: options.callbackBaseUrl,
    webhookSecret: options.webhookSecret,
    attempts: options.receipts.attempts,
    providerId,
    log,
  });
  let repeats = 0;
  let rateWindow = { startedAt: Date.now(), count: 0 };

  const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
  // The SendGrid Event Webhook signing key (email mocks only use it).
  const signing = options.sendGridSigningKey ?? generateSendGridKeyPair();

  // A provider that is down resets every connection (admin endpoints stay up to turn it back on).
  app.addHook('onRequest', async (request, reply) => {
    if (faults.down && !request.url.startsWith('/admin') && request.url !== '/health') {
      request.raw.socket.destroy();
      return reply.hijack();
    }
  });

  const rateLimitHeaders = (): Record<string, string> => {
    const now = Date.now();
    if (now - rateWindow.startedAt >= 60_000) rateWindow = { startedAt: now, count: 0 };
    rateWindow.count++;
    return {
      'x-ratelimit-limit': '600000',
      'x-ratelimit-remaining': String(Math.max(0, 600_000 - rateWindow.count)),
      'x-ratelimit-reset': String(Math.ceil((rateWindow.startedAt + 60_000) / 1000)),
    };
  };

  const sendAnswer = (reply: FastifyReply, answer: StoredAnswer) =>
    reply
      .code(answer.status)
      .headers(answer.headers)
      .send(answer.payload ?? '');

  const scheduleReceipt = (record: ReceivedMessage, forced: ForcedOutcome | null, protocol: SendProtocol) => {
    const settings = options.receipts;
    if (!settings.enabled || forced === 'no_receipt' || !record.providerMessageId) return;
    const failed = forced === 'undelivered';
    const late = random() < settings.outOfOrderRate ? settings.outOfOrderDelayMs : 0;
    protocol.receipt(record, failed, settings.delayMs + late);
    if (random() < settings.duplicateRate) protocol.receipt(record, failed, settings.delayMs + late + 20);
  };

  /** The scaffold's JSON protocol: receipts to `/api/webhooks/{sms,email}/status`, signed X-Hatch. */
  const scaffold: SendProtocol = {
    name: 'scaffold',
    accept: (providerMessageId, message) => acceptance(providerMessageId, message),
    reject: () => rejection(),
    tooMany: (seconds) => ({
      status: 429,
      headers: {
        'content-type': 'application/problem+json',
        'retry-after': String(seconds),
        ...(kind === 'email' ? { 'x-ratelimit-remaining': '0' } : {}),
      },
      payload: { type: 'about:blank', title: 'Too Many Requests', status: 429 },
    }),
    serverError: () => ({
      status: 500,
      headers: { 'content-type': 'application/problem+json' },
      payload: { type: 'about:blank', title: 'Internal Server Error', status: 500 },
    }),
    receipt: (record, failed, delayMs) => {
      const timestamp = new Date().toISOString();
      const path = kind === 'sms' ? '/api/webhooks/sms/status' : '/api/webhooks/email/status';
      const payload =
        kind === 'sms'
          ? {
              messaging_provider_id: record.providerMessageId,
              message_id: record.messageId,
              status: failed ? 'undelivered' : 'delivered',
              error_code: failed ? '30003' : null,
              timestamp,
            }
          : {
              xillio_id: record.providerMessageId,
              message_id: record.messageId,
              status: failed ? 'bounced' : 'delivered',
              reason: failed ? '550 5.1.1 mailbox does not exist' : null,
              timestamp,
            };
      poster.post(path, payload, delayMs);
    },
  };

  /** Shared send path once the payload is validated. */
  const handleSend = async (
    request: FastifyRequest,
    reply: FastifyReply,
    message: SendContent,
    protocol: SendProtocol = scaffold,
  ) => {
    const keyHeader = request.headers['idempotency-key'];
    const key = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : null;
    // With idempotency off the key is only recorded (the soak counts the second messages it lets through).
    const deduped = key !== null && faults.idempotency ? key : null;
    if (deduped) {
      const known = answers.get(deduped);
      if (known) {
        const record = messages.get(deduped);
        if (record) record.repeats++;
        repeats++;
        return sendAnswer(reply, known);
      }
      if (inFlight.has(deduped))
        return problem(reply, 409, 'Conflict', 'a request with this Idempotency-Key is in flight');
    }
    const forced = forcedOutcome(message.to);
    if (forced === 'error500') return sendAnswer(reply, protocol.serverError());
    if (forced === 'error429') return sendAnswer(reply, protocol.tooMany(faults.retryAfterSeconds));
    const fault = drawFault(faults, random);
    if (fault === 'error500') return sendAnswer(reply, protocol.serverError());
    if (fault === 'error429') return sendAnswer(reply, protocol.tooMany(faults.retryAfterSeconds));

    if (deduped) inFlight.add(deduped);
    try {
      if (fault === 'slow') await new Promise((r) => setTimeout(r, faults.slowMs));
      const rejected = forced === 'reject';
      const providerMessageId = rejected ? null : newProviderMessageId(kind);
      const record: ReceivedMessage = {
        idempotencyKey: key,
        messageId: message.messageId,
        providerMessageId,
        protocol: protocol.name,
        statusCallback: message.statusCallback ?? null,
        contentTypes: message.contentTypes ?? [],
        from: message.from,
        to: message.to,
        type: message.type,
        body: message.body,
        outcome: rejected ? 'rejected' : 'accepted',
        httpStatus: 0,
        receivedAt: Date.now(),
        repeats: 0,
      };
      const answer = rejected ? protocol.reject(message) : protocol.accept(providerMessageId as string, message);
      record.httpStatus = answer.status;
      messages.set(deduped ?? randomUUID(), record);
      // Only answers from a send that ran are kept for the key: faults are not (a retry may succeed).
      if (deduped) answers.set(deduped, answer);
      scheduleReceipt(record, forced, protocol);
      if (fault === 'timeout') {
        // Accepted and stored, but the answer never comes: the caller times out and retries with the key.
        reply.hijack();
        setTimeout(() => request.raw.socket.destroy(), 120_000).unref();
        return reply;
      }
      return sendAnswer(reply, answer);
    } finally {
      if (deduped) inFlight.delete(deduped);
    }
  };

  const rejection = (): StoredAnswer =>
    kind === 'sms'
      ? jsonAnswer(400, { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 })
      : jsonAnswer(400, {
          errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to', help: null }],
        });

  const acceptance = (providerMessageId: string, message: { from: string; to: string; body: string }): StoredAnswer =>
    kind === 'sms'
      ? {
          status: 201,
          headers: { 'content-type': 'application/json' },
          payload: {
            id: providerMessageId,
            status: 'queued',
            from: message.from,
            to: message.to,
            num_segments: String(Math.max(1, Math.ceil(message.body.length / 160))),
            date_created: new Date().toUTCString(),
          },
        }
      : { status: 202, headers: { 'x-message-id': providerMessageId, ...rateLimitHeaders() }, payload: '' };

  if (kind === 'sms') {
    registerTwilioRoutes(app, handleSend, poster);
    app.post('/v1/messages', async (request, reply) => {
      const parsed = smsSendSchema.safeParse(request.body);
      if (!parsed.success) return problem(reply, 400, 'Bad Request', parsed.error.issues[0]?.message);
      const m = parsed.data;
      return handleSend(request, reply, {
        messageId: m.message_id ?? null,
        from: m.from,
        to: m.to,
        type: m.type,
        body: m.body,
      });
    });
  } else {
    const sendGrid = sendGridProtocol(
      poster,
      new URL('/api/webhooks/sendgrid/events', options.callbackBaseUrl).toString(),
      signing.privateKey,
    );
    app.get('/admin/sendgrid/public-key', async () => ({ publicKey: signing.publicKey }));
    app.post('/v3/mail/send', async (request, reply) => {
      // A Bearer key is SendGrid's protocol (our SendGridClient); the scaffold's client sends none.
      if (request.headers.authorization?.startsWith('Bearer '))
        return sendGridMailSend(request, reply, handleSend, sendGrid);
      const parsed = mailSendSchema.safeParse(request.body);
      if (!parsed.success) return problem(reply, 400, 'Bad Request', parsed.error.issues[0]?.message);
      const m = parsed.data;
      const p = m.personalizations[0]!;
      return handleSend(request, reply, {
        messageId: p.custom_args?.message_id ?? null,
        from: m.from.email,
        to: p.to[0]!.email,
        type: 'email',
        body: m.content[0]!.value,
      });
    });
  }

  registerLookupRoutes(app, kind, () => messages.values());
  app.get('/health', async () => ({ status: 'ok', provider: providerId }));

  app.get('/admin/faults', async () => faults);
  app.post('/admin/faults', async (request, reply) => {
    const parsed = faultSettingsSchema.partial().safeParse(request.body ?? {});
    if (!parsed.success) return problem(reply, 400, 'Bad Request', parsed.error.issues[0]?.message);
    const changes = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    faults = { ...faults, ...changes };
    log.info({ provider: providerId, faults }, 'faults changed');
    return faults;
  });

  app.get('/admin/messages', async () => {
    const list = [...messages.values()];
    return {
      provider: providerId,
      accepted: list.filter((m) => m.outcome === 'accepted').length,
      rejected: list.filter((m) => m.outcome === 'rejected').length,
      repeats,
      receipts: { pending: poster.pending, delivered: poster.delivered, dropped: poster.dropped },
      messages: list,
    };
  });

  app.post('/admin/reset', async () => {
    messages.clear();
    answers.clear();
    repeats = 0;
    faults = { ...initialFaults };
    return { ok: true };
  });

  /** A contact's reply in Twilio's or SendGrid's own webhook, to the routes a console would name. */
  const providerReply = async (reply: FastifyReply, r: z.infer<typeof replySchema>, providerMessageId: string) => {
    const auth = options.inboundAuth;
    const attachments = r.attachments ?? [];
    const url = (path: string) => new URL(path, options.callbackBaseUrl).toString();
    if (r.protocol === 'twilio' ? kind !== 'sms' : kind !== 'email')
      return problem(reply, 400, 'Bad Request', `the ${kind} mock does not speak ${r.protocol}`);
    try {
      if (r.protocol === 'twilio') {
        if (!auth?.twilioAuthToken) return problem(reply, 400, 'Bad Request', 'the mock has no TWILIO_AUTH_TOKEN');
        const fields = twilioIncomingFields(auth.twilioAccountSid, providerMessageId, { ...r, attachments });
        const status = await postTwilioForm(url('/api/webhooks/twilio/messages'), auth.twilioAuthToken, fields);
        return { webhookStatus: status, payload: Object.fromEntries(fields) };
      }
      const secret = auth?.sendGridInboundSecret;
      const path = `/api/webhooks/sendgrid/inbound${secret ? `/${encodeURIComponent(secret)}` : ''}`;
      const status = await postInboundParse(url(path), { ...r, messageId: providerMessageId });
      return { webhookStatus: status, payload: { from: r.from, to: r.to, subject: r.subject, html: r.body } };
    } catch (error) {
      return problem(reply, 502, 'Bad Gateway', `callback unreachable: ${(error as Error).message}`);
    }
  };

  // A contact replies: the provider posts a signed inbound message to our webhook.
  app.post('/admin/reply', async (request, reply) => {
    const parsed = replySchema.safeParse(request.body);
    if (!parsed.success) return problem(reply, 400, 'Bad Request', parsed.error.issues[0]?.message);
    const r = parsed.data;
    const providerMessageId = newProviderMessageId(kind);
    if (r.protocol !== 'scaffold') return providerReply(reply, r, providerMessageId);
    const timestamp = new Date().toISOString();
    const [path, payload] =
      kind === 'sms'
        ? [
            '/api/webhooks/sms',
            {
              from: r.from,
              to: r.to,
              type: r.type,
              messaging_provider_id: providerMessageId,
              body: r.body,
              attachments: r.attachments,
              timestamp,
            },
          ]
        : [
            '/api/webhooks/email',
            {
              from: r.from,
              to: r.to,
              xillio_id: providerMessageId,
              body: r.body,
              attachments: r.attachments,
              timestamp,
            },
          ];
    try {
      const status = await poster.postOnce(path, payload);
      return { webhookStatus: status, payload };
    } catch (error) {
      return problem(reply, 502, 'Bad Gateway', `callback unreachable: ${(error as Error).message}`);
    }
  });

  // A contact clicks the unsubscribe link of a sender's mail: the email provider posts a signed callback.
  if (kind === 'email') {
    app.post('/admin/unsubscribe', async (request, reply) => {
      const parsed = unsubscribeSchema.safeParse(request.body);
      if (!parsed.success) return problem(reply, 400, 'Bad Request', parsed.error.issues[0]?.message);
      if (parsed.data.protocol === 'sendgrid') {
        const { email, sender } = parsed.data;
        const mail = [...messages.values()]
          .filter((m) => m.protocol === 'sendgrid' && m.outcome === 'accepted' && m.to === email && m.from === sender)
          .at(-1);
        if (!mail) return problem(reply, 404, 'Not Found', `no SendGrid mail from ${sender} to ${email} here`);
        const events = sendGridUnsubscribe(mail);
        try {
          const url = new URL('/api/webhooks/sendgrid/events', options.callbackBaseUrl).toString();
          return { webhookStatus: await postSendGridEvents(url, signing.privateKey, events), payload: events };
        } catch (error) {
          return problem(reply, 502, 'Bad Gateway', `callback unreachable: ${(error as Error).message}`);
        }
      }
      const payload = {
        xillio_event_id: newProviderMessageId(kind),
        email: parsed.data.email,
        sender: parsed.data.sender,
        timestamp: new Date().toISOString(),
      };
      try {
        const status = await poster.postOnce('/api/webhooks/email/unsubscribe', payload);
        return { webhookStatus: status, payload };
      } catch (error) {
        return problem(reply, 502, 'Bad Gateway', `callback unreachable: ${(error as Error).message}`);
      }
    });
  }

  return {
    app,
    messages,
    get faults() {
      return faults;
    },
  };
}
