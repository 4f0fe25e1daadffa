// Twilio's webhooks as Twilio sends them: `application/x-www-form-urlencoded`, signed with
// X-Twilio-Signature (HMAC-SHA1 under the auth token over the full URL plus the sorted POST parameters).
// Incoming messages answer empty TwiML; status callbacks become delivery receipts. Both go through the
// one inbound path (inbound-commands.ts); a missing or wrong signature answers 403 before anything runs.

import { Problem, problemResponses } from '@hatch/http';
import { twilioSignatureHeader, verifyTwilioSignature } from '@hatch/platform';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InboundCommands } from './inbound-commands.ts';
import { invalidPayload } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The form's fields in arrival order, as Twilio signed them (names may repeat). */
    formPairs?: Array<[string, string]>;
  }
}

const sid = z.string().regex(/^[A-Z]{2}[0-9a-zA-Z]{10,64}$/, 'must be a Twilio SID');

/** Twilio's incoming-message fields we use; Twilio sends more (FromCity, NumSegments, …), ignored. */
const incomingMessage = z.object({
  MessageSid: sid,
  AccountSid: sid.optional(),
  From: z.string().min(1).max(64),
  To: z.string().min(1).max(64),
  Body: z.string().max(10_000).default(''),
  NumMedia: z.coerce.number().int().min(0).max(10).default(0),
});

const statusCallback = z.object({
  MessageSid: sid,
  MessageStatus: z.string().min(1).max(32),
  ErrorCode: z.string().max(16).optional(),
});

const statusQuery = z.object({ messageId: z.uuid().optional() });

/** The provider id recorded on events (as the dispatcher's TwilioClient names itself). */
export const twilioProvider = 'twilio';

export const emptyTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** The URL Twilio signed: PUBLIC_BASE_URL + path when set (behind a proxy), else the request's own. */
export function signedUrl(request: FastifyRequest, publicBaseUrl: string | null): string {
  if (publicBaseUrl) return new URL(request.url, publicBaseUrl).toString();
  return `${request.protocol}://${request.host}${request.url}`;
}

export const twilioWebhookRoutes: FastifyPluginAsyncZod<CommandRouteOptions & { inbound: InboundCommands }> = async (
  app,
  { deps, inbound },
) => {
  const { twilio, publicBaseUrl } = deps.config;
  if (!twilio.enabled) return;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, raw, done) => {
    const pairs = [...new URLSearchParams(raw as string).entries()];
    request.formPairs = pairs;
    done(null, Object.fromEntries(pairs));
  });

  app.addHook('preValidation', async (request) => {
    // No token is only possible in local mode (production refuses to start): unsigned, as the scaffold's.
    if (twilio.authTokens.length === 0) return;
    const ok = verifyTwilioSignature({
      authTokens: twilio.authTokens,
      url: signedUrl(request, publicBaseUrl),
      params: request.formPairs ?? [],
      signature: request.headers[twilioSignatureHeader] as string | undefined,
    });
    if (!ok) {
      request.log.warn({ route: request.routeOptions.url }, 'twilio signature rejected');
      throw new Problem(403, 'invalid-signature', 'Invalid Twilio signature', {
        detail: 'X-Twilio-Signature does not match the request under the configured auth token',
      });
    }
  });

  const parse = <T extends z.ZodType>(schema: T, value: unknown): z.infer<T> => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw invalidPayload(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  };

  const webhook = { tags: ['webhooks'] };

  app.post(
    '/api/webhooks/twilio/messages',
    {
      schema: {
        ...webhook,
        summary: "Incoming SMS/MMS in Twilio's form-encoded protocol (answers empty TwiML)",
        response: { 200: z.string(), ...problemResponses(400, 403, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const m = parse(incomingMessage, request.body);
      const fields = request.body as Record<string, string>;
      const attachments = Array.from({ length: m.NumMedia }, (_, i) => fields[`MediaUrl${i}`]).filter(
        (url): url is string => typeof url === 'string' && url.length > 0,
      );
      const now = deps.clock.now().toISOString();
      await inbound.receive(request, twilioProvider, m.MessageSid, {
        channel: m.NumMedia > 0 ? 'mms' : 'sms',
        from: m.From,
        to: m.To,
        body: m.Body,
        attachments,
        // Twilio stamps no time on the webhook: the message's time is when it reached us.
        timestamp: now,
        provider: twilioProvider,
        providerMessageId: m.MessageSid,
        receivedAt: now,
      });
      return reply.type('text/xml').send(emptyTwiml);
    },
  );

  app.post(
    '/api/webhooks/twilio/status',
    {
      schema: {
        ...webhook,
        summary:
          'Twilio status callback (MessageSid, MessageStatus, ErrorCode), matched by ?messageId= or by MessageSid',
        response: { 200: z.string(), ...problemResponses(400, 403, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const callback = parse(statusCallback, request.body);
      const { messageId } = parse(statusQuery, request.query);
      const outcome =
        callback.MessageStatus === 'delivered'
          ? 'delivered'
          : callback.MessageStatus === 'undelivered' || callback.MessageStatus === 'failed'
            ? 'undelivered'
            : null;
      // queued/sending/sent/read are progress, not receipts: acknowledged, nothing recorded.
      if (outcome === null) return reply.type('text/xml').send(emptyTwiml);
      // Our own StatusCallback names the message; a callback configured once for the account names only
      // Twilio's MessageSid. One naming no send of ours is acknowledged (Twilio retries any non-2xx).
      const target = messageId ?? (await inbound.messageIdOf(twilioProvider, callback.MessageSid));
      if (!target) {
        request.log.info({ providerMessageId: callback.MessageSid }, 'twilio status callback for no message of ours');
        return reply.type('text/xml').send(emptyTwiml);
      }
      await inbound.recordReceipt(request, {
        messageId: target,
        provider: twilioProvider,
        providerMessageId: callback.MessageSid,
        outcome,
        providerStatus: callback.MessageStatus,
        reason: null,
        errorCode: callback.ErrorCode ?? null,
        reportedAt: deps.clock.now().toISOString(),
      });
      return reply.type('text/xml').send(emptyTwiml);
    },
  );
};
