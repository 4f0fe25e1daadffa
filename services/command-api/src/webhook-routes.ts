// Provider webhooks: inbound messages (→ MessageReceived), delivery receipts (→ MessageDelivered /
// MessageUndelivered), opt-out keywords and unsubscribe callbacks (→ consent changes). The provider scope
// checks signatures (webhook-signature-check.ts); the commands behind them are inbound-commands.ts.
import { decideEmailUnsubscribe, localAccountId, normaliseEmail } from '@hatch/domain';
import { problemResponses } from '@hatch/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AccountDirectory } from './account-directory.ts';
import type { InboundCommands } from './inbound-commands.ts';
import {
  consentChangeResponse,
  emailStatusPayload,
  emailUnsubscribePayload,
  inboundEmailPayload,
  inboundSmsPayload,
  invalidPayload,
  receiptResponse,
  receivedResponse,
  smsStatusPayload,
} from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

export const smsProvider = 'messaging-provider';
export const emailProvider = 'xillio';

export const webhookRoutes: FastifyPluginAsyncZod<CommandRouteOptions & { inbound: InboundCommands }> = async (
  app,
  { deps, inbound },
) => {
  const { receive, recordReceipt, recordConsentChange } = inbound;
  const directory = deps.directory as AccountDirectory;

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
        throw invalidPayload([
          ...(address.ok ? [] : [{ field: 'email', message: address.message }]),
          ...(sender.ok ? [] : [{ field: 'sender', message: sender.message }]),
        ]);
      const change = decideEmailUnsubscribe({
        // The opt-out is recorded whoever owns the sender (it binds every later send from it); the read side
        // shows it to the owning account (an unowned sender's: the local account's).
        accountId: (await directory.ownerOf('email', sender.value)) ?? localAccountId,
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
};
