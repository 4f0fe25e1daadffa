// Provider webhooks: inbound messages (→ MessageReceived) and delivery receipts (→ MessageDelivered /
// MessageUndelivered). Signed with HMAC-SHA256 over timestamp + raw body whenever a secret is
// configured, so this scope keeps the raw bytes. Deterministic ids make every re-delivery a no-op.
import {
  type ConsentChange,
  decideDeliveryReceipt,
  decideEmailUnsubscribe,
  decideInboundKeyword,
  decideReceive,
  decideSend,
  isMessageEventType,
  type MessageEvent,
  messageStateFrom,
  messageStreamId,
  normaliseEmail,
  parseMessageEvent,
  type RecordDeliveryReceipt,
} from '@hatch/domain';
import { WrongExpectedVersionError } from '@hatch/event-store';
import { type HttpApp, Problem, problemResponses } from '@hatch/http';
import { verifyWebhookSignature } from '@hatch/platform';
import type { FastifyRequest } from 'fastify';
import type { CommandDeps } from './command-deps.ts';
import type { DurableLog } from './durable-append.ts';
import {
  consentChangeResponse,
  emailStatusPayload,
  emailUnsubscribePayload,
  inboundEmailPayload,
  inboundSmsPayload,
  receiptResponse,
  receivedResponse,
  smsStatusPayload,
} from './payloads.ts';
import { invalidRequest } from './send-routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

export const smsProvider = 'messaging-provider';
export const emailProvider = 'xillio';

const jsonError = (message: string, code: string) => Object.assign(new Error(message), { statusCode: 400, code });

export function registerWebhookRoutes(app: HttpApp, deps: CommandDeps, log: DurableLog) {
  const { webhookSecret, webhookToleranceSeconds } = deps.config;

  // Keep the exact bytes: the signature covers them, not a re-serialisation.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    const bytes = raw as Buffer;
    request.rawBody = bytes;
    if (bytes.length === 0) return done(jsonError('Body cannot be empty', 'FST_ERR_CTP_EMPTY_JSON_BODY'), undefined);
    try {
      done(null, JSON.parse(bytes.toString('utf8')));
    } catch {
      done(jsonError('Body is not valid JSON', 'FST_ERR_CTP_INVALID_JSON_BODY'), undefined);
    }
  });

  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!webhookSecret) return;
    const check = verifyWebhookSignature({
      secret: webhookSecret,
      rawBody: request.rawBody ?? Buffer.alloc(0),
      timestamp: request.headers['x-hatch-timestamp'] as string | undefined,
      signature: request.headers['x-hatch-signature'] as string | undefined,
      toleranceSeconds: webhookToleranceSeconds,
      nowMs: deps.clock.now().getTime(),
    });
    if (!check.ok) {
      request.log.warn({ reason: check.reason, route: request.routeOptions.url }, 'webhook signature rejected');
      throw new Problem(401, 'invalid-signature', 'Invalid webhook signature', {
        detail: `signature ${check.reason}: sign HMAC-SHA256 over "<X-Hatch-Timestamp>.<raw body>"`,
      });
    }
  });

  const metadata = (request: FastifyRequest, actor: string) => ({
    correlationId: request.id,
    causationId: null,
    actor,
    schemaVersion: 1,
  });

  async function receive(
    request: FastifyRequest,
    provider: string,
    providerMessageId: string,
    content: Parameters<typeof decideReceive>[0]['data'],
  ) {
    const decision = decideReceive({ type: 'ReceiveMessage', data: content });
    if (!decision.ok)
      throw decision.reason === 'invalid'
        ? invalidRequest(decision.errors)
        : new Problem(404, 'not-found', 'Not Found');
    const events = decision.events.map((e) => ({ ...e, metadata: metadata(request, provider) }));
    const event = decision.events[0] as (typeof decision.events)[number];
    let position: string;
    try {
      const result = await log.append(decision.streamId, events, 'no_stream');
      position = result.position;
      if (result.duplicate) request.log.info({ messageId: decision.messageId, provider }, 'webhook re-delivered');
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const [first] = await log.readStream(decision.streamId);
      position = first?.position ?? '';
    }
    request.log.info({ messageId: decision.messageId, provider, providerMessageId }, 'message received');
    // Also on a re-delivery: a crash after the MessageReceived append must not lose the STOP. Every
    // append below has a deterministic id, so doing it twice records it once.
    await answerKeyword(request, event.data);
    return { id: decision.messageId, conversationId: event.data.conversationId, status: 'received' as const, position };
  }

  async function recordConsentChange(request: FastifyRequest, change: ConsentChange, actor: string) {
    // Consent changes are facts in arrival order (STOP then START): no version to expect.
    const result = await log.append(change.streamId, [{ ...change.event, metadata: metadata(request, actor) }], 'any');
    request.log.info(
      { event: change.event.type, channel: change.event.data.channel, duplicate: result.duplicate },
      'consent changed',
    );
    return result;
  }

  /** STOP/START record the change first (so the opt-out holds even if the reply fails), then reply. */
  async function answerKeyword(request: FastifyRequest, received: Parameters<typeof decideInboundKeyword>[0]) {
    const outcome = decideInboundKeyword(received);
    if (!outcome) return;
    if (outcome.change) await recordConsentChange(request, outcome.change, received.provider);
    const reply = decideSend(outcome.reply);
    if (!reply.ok) {
      request.log.warn({ messageId: received.messageId }, 'consent reply could not be decided');
      return;
    }
    const events = reply.events.map((e) => ({
      ...e,
      metadata: { ...metadata(request, 'consent'), causationId: received.messageId },
    }));
    try {
      await log.append(reply.streamId, events, 'no_stream');
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error; // already replied
    }
  }

  async function recordReceipt(request: FastifyRequest, receipt: RecordDeliveryReceipt['data']) {
    const past = await log.readStream(messageStreamId(receipt.messageId));
    const known: MessageEvent[] = past
      .filter((e) => isMessageEventType(e.type))
      .map((e) => parseMessageEvent(e.type, e.data));
    const decision = decideDeliveryReceipt({ type: 'RecordDeliveryReceipt', data: receipt }, messageStateFrom(known));
    if (!decision.ok)
      throw decision.reason === 'not_found'
        ? new Problem(404, 'message-not-found', 'Unknown message', { detail: decision.detail })
        : invalidRequest(decision.errors);
    const events = decision.events.map((e) => ({ ...e, metadata: metadata(request, receipt.provider) }));
    // Receipts may race the dispatcher's own events: order is the projector's concern, not a conflict.
    const result = await log.append(decision.streamId, events, 'any');
    const event = decision.events[0] as (typeof decision.events)[number];
    request.log.info(
      { messageId: receipt.messageId, event: event.type, duplicate: result.duplicate },
      'receipt recorded',
    );
    return { id: receipt.messageId, event: event.type, position: result.position };
  }

  const webhook = { tags: ['webhooks'] };

  app.post(
    '/api/webhooks/sms',
    {
      schema: {
        ...webhook,
        summary: 'Inbound SMS/MMS from the messaging provider',
        body: inboundSmsPayload,
        response: { 200: receivedResponse, ...problemResponses(400, 401, 413, 415, 503) },
      },
    },
    async (request) => {
      const p = request.body;
      const attachments = p.attachments ?? [];
      return receive(request, smsProvider, p.messaging_provider_id, {
        channel: p.type ?? (attachments.length > 0 ? 'mms' : 'sms'),
        from: p.from,
        to: p.to,
        body: p.body,
        attachments,
        timestamp: p.timestamp,
        provider: smsProvider,
        providerMessageId: p.messaging_provider_id,
        receivedAt: deps.clock.now().toISOString(),
      });
    },
  );

  app.post(
    '/api/webhooks/email',
    {
      schema: {
        ...webhook,
        summary: 'Inbound email from xillio',
        body: inboundEmailPayload,
        response: { 200: receivedResponse, ...problemResponses(400, 401, 413, 415, 503) },
      },
    },
    async (request) => {
      const p = request.body;
      return receive(request, emailProvider, p.xillio_id, {
        channel: 'email',
        from: p.from,
        to: p.to,
        body: p.body,
        attachments: p.attachments ?? [],
        subject: p.subject ?? null,
        cc: p.cc ?? [],
        bcc: p.bcc ?? [],
        replyTo: p.reply_to ?? null,
        timestamp: p.timestamp,
        provider: emailProvider,
        providerMessageId: p.xillio_id,
        receivedAt: deps.clock.now().toISOString(),
      });
    },
  );

  app.post(
    '/api/webhooks/email/unsubscribe',
    {
      schema: {
        ...webhook,
        summary: 'Email unsubscribe callback from xillio (the contact opts out of email from the sender)',
        body: emailUnsubscribePayload,
        response: { 200: consentChangeResponse },
      },
    },
    async (request) => {
      const p = request.body;
      const address = normaliseEmail(p.email);
      const sender = normaliseEmail(p.sender);
      if (!address.ok || !sender.ok)
        throw invalidRequest([
          ...(address.ok ? [] : [{ field: 'email', message: address.message }]),
          ...(sender.ok ? [] : [{ field: 'sender', message: sender.message }]),
        ]);
      const change = decideEmailUnsubscribe({
        sender: sender.value,
        address: address.value,
        provider: emailProvider,
        providerEventId: p.xillio_event_id,
        changedAt: p.timestamp,
      });
      const result = await recordConsentChange(request, change, emailProvider);
      return { event: change.event.type, position: result.position };
    },
  );

  app.post(
    '/api/webhooks/sms/status',
    {
      schema: {
        ...webhook,
        summary: 'SMS/MMS delivery receipt (status callback)',
        body: smsStatusPayload,
        response: { 200: receiptResponse, ...problemResponses(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const p = request.body;
      return recordReceipt(request, {
        messageId: p.message_id,
        provider: smsProvider,
        providerMessageId: p.messaging_provider_id,
        outcome: p.status === 'delivered' ? 'delivered' : 'undelivered',
        providerStatus: p.status,
        reason: null,
        errorCode: p.error_code ?? null,
        reportedAt: p.timestamp,
      });
    },
  );

  app.post(
    '/api/webhooks/email/status',
    {
      schema: {
        ...webhook,
        summary: 'Email delivery receipt (event webhook)',
        body: emailStatusPayload,
        response: { 200: receiptResponse, ...problemResponses(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const p = request.body;
      return recordReceipt(request, {
        messageId: p.message_id,
        provider: emailProvider,
        providerMessageId: p.xillio_id,
        outcome: p.status === 'delivered' ? 'delivered' : 'undelivered',
        providerStatus: p.status,
        reason: p.reason ?? null,
        errorCode: null,
        reportedAt: p.timestamp,
      });
    },
  );
}
