// SendGrid's webhooks as SendGrid sends them. The Event Webhook posts a JSON array of events signed with
// ECDSA (X-Twilio-Email-Event-Webhook-Signature over `<timestamp><raw body>`), so its scope keeps the raw
// body; Inbound Parse posts multipart/form-data and is authenticated by a secret in the path or basic auth.
// Both go through the one inbound path (inbound-commands.ts); a failed check answers 403 before anything runs.
import { createHash } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import { decideEmailUnsubscribe, messageFold, messageStreamId, normaliseEmail } from '@hatch/domain';
import { Problem, problemResponses } from '@hatch/http';
import { sameSecret, sendGridSignatureHeader, sendGridTimestampHeader, verifySendGridSignature } from '@hatch/platform';
import { providerIds } from '@hatch/vocabulary';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InboundCommands } from './inbound-commands.ts';
import { invalidPayload, receivedResponse } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';
import { type ParsedEmail, readInboundParse } from './sendgrid-inbound-parse.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Event Webhook body exactly as signed. */
    rawBody?: Buffer;
  }
}

/** The provider id recorded on events (as the dispatcher's SendGridClient names itself). */
export const sendGridProvider = providerIds.sendgrid;

/** The Event Webhook fields we use (twilio.com/docs/sendgrid/for-developers/tracking-events/event); others ignored. */
const sendGridEvent = z.looseObject({
  event: z.string().min(1).max(64),
  email: z.string().max(320).optional(),
  timestamp: z.number().int().nonnegative(),
  sg_event_id: z.string().max(256).optional(),
  sg_message_id: z.string().max(256).optional(),
  /** Our custom arg (`custom_args.message_id` on the send): SendGrid puts custom args at the top level. */
  message_id: z.uuid().optional(),
  reason: z.string().max(2000).optional(),
  response: z.string().max(2000).optional(),
  status: z.string().max(32).optional(),
  type: z.string().max(32).optional(),
});
type SendGridEvent = z.infer<typeof sendGridEvent>;

const eventsAnswer = z.object({ recorded: z.number().int(), ignored: z.number().int() });

const undelivering = new Set(['bounce', 'dropped', 'blocked']);
const unsubscribing = new Set(['unsubscribe', 'group_unsubscribe', 'spamreport']);

/** X-Message-Id is the part of `sg_message_id` before the first dot. */
export const sendGridMessageId = (sgMessageId: string) => sgMessageId.split('.')[0] ?? sgMessageId;

export const sendGridWebhookRoutes: FastifyPluginAsyncZod<CommandRouteOptions & { inbound: InboundCommands }> = async (
  app,
  options,
) => {
  const { events, inbound } = options.deps.config.sendGrid;
  if (events.enabled) await app.register(eventWebhookRoutes, options);
  if (inbound.enabled) await app.register(inboundParseRoutes, options);
};

const eventWebhookRoutes: FastifyPluginAsyncZod<CommandRouteOptions & { inbound: InboundCommands }> = async (
  app,
  { deps, log, inbound },
) => {
  const { publicKeys, toleranceSeconds } = deps.config.sendGrid.events;

  // Raw bytes in, verified, then parsed: a re-serialised body would not match the signature.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    request.rawBody = raw as Buffer;
    done(null, raw);
  });

  app.addHook('preValidation', async (request) => {
    // No key is only possible in local mode (production refuses to start): unsigned, as the scaffold's.
    if (publicKeys.length === 0) return;
    const signature = request.headers[sendGridSignatureHeader] as string | undefined;
    const timestamp = request.headers[sendGridTimestampHeader] as string | undefined;
    const rawBody = request.rawBody ?? Buffer.alloc(0);
    if (!publicKeys.some((publicKey) => verifySendGridSignature({ publicKey, timestamp, signature, rawBody }))) {
      request.log.warn({ route: request.routeOptions.url }, 'sendgrid signature rejected');
      throw new Problem(403, 'invalid-signature', 'Invalid SendGrid signature', {
        detail: 'X-Twilio-Email-Event-Webhook-Signature does not verify over the timestamp and body',
      });
    }
    // The signature covers the timestamp, so a fresh one cannot be forged; an old one is a replayed capture.
    const signedAt = Number(timestamp);
    if (!Number.isFinite(signedAt) || Math.abs(deps.clock.now().getTime() / 1000 - signedAt) > toleranceSeconds) {
      request.log.warn({ route: request.routeOptions.url, timestamp }, 'sendgrid webhook timestamp outside tolerance');
      throw new Problem(403, 'stale-signature', 'Stale SendGrid signature', {
        detail: `X-Twilio-Email-Event-Webhook-Timestamp is more than ${toleranceSeconds} s from now`,
      });
    }
  });

  /** The sender of our message, for an unsubscribe (SendGrid names only the contact). */
  async function messageOf(messageId: string) {
    const stored = await log.readStream(messageStreamId(messageId));
    let state = messageFold.initialState();
    for (const e of stored) {
      const parsed = messageFold.parse(e.type, e.data);
      if (parsed) state = messageFold.evolve(state, parsed);
    }
    return state;
  }

  async function apply(request: FastifyRequest, e: SendGridEvent): Promise<boolean> {
    // Our custom arg names the message; without it (a send that set none, or the webhook of a whole account)
    // the X-Message-Id inside sg_message_id does, through the dispatcher's link. Anything else is not ours.
    const messageId =
      e.message_id ??
      (e.sg_message_id ? await inbound.messageIdOf(sendGridProvider, sendGridMessageId(e.sg_message_id)) : null);
    if (!messageId) return false;
    const at = new Date(e.timestamp * 1000).toISOString();
    if (unsubscribing.has(e.event)) {
      const message = await messageOf(messageId);
      const address = normaliseEmail(e.email ?? '');
      if (message?.direction !== 'outbound' || !address.ok) return false;
      const change = decideEmailUnsubscribe({
        // The account that sent the message: its opt-out view shows the change.
        accountId: message.accountId,
        sender: message.from,
        address: address.value,
        provider: sendGridProvider,
        providerEventId: e.sg_event_id ?? `${messageId}:${e.event}:${e.timestamp}`,
        changedAt: at,
      });
      await inbound.recordConsentChange(request, change, sendGridProvider);
      return true;
    }
    const outcome = e.event === 'delivered' ? 'delivered' : undelivering.has(e.event) ? 'undelivered' : null;
    // processed/deferred are progress; open/click are engagement: acknowledged, nothing recorded.
    if (outcome === null) return false;
    // A `dropped` event may come without sg_message_id: the send's own X-Message-Id then names it.
    const providerMessageId = e.sg_message_id
      ? sendGridMessageId(e.sg_message_id)
      : Object.entries((await messageOf(messageId))?.providerOf ?? {}).find(([, p]) => p === sendGridProvider)?.[0];
    if (!providerMessageId) return false;
    const providerStatus = e.event === 'bounce' && e.type === 'blocked' ? 'blocked' : e.event;
    try {
      await inbound.recordReceipt(request, {
        messageId,
        provider: sendGridProvider,
        providerMessageId,
        outcome,
        providerStatus,
        reason: outcome === 'undelivered' ? (e.reason ?? e.response ?? null) : null,
        errorCode: outcome === 'undelivered' ? (e.status ?? null) : null,
        reportedAt: at,
      });
      return true;
    } catch (error) {
      // An unknown message: a 4xx would make SendGrid retry the whole batch, for an event that is not ours.
      if (error instanceof Problem && error.details.status === 404) return false;
      throw error;
    }
  }

  app.post(
    '/api/webhooks/sendgrid/events',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'SendGrid Event Webhook: a signed JSON array of events (delivered, bounce, dropped, unsubscribe, …)',
        response: { 200: eventsAnswer, ...problemResponses(400, 403, 413, 415, 503) },
      },
    },
    async (request) => {
      let body: unknown;
      try {
        body = JSON.parse((request.rawBody ?? Buffer.alloc(0)).toString('utf8'));
      } catch {
        throw invalidPayload([{ field: 'body', message: 'is not JSON' }]);
      }
      if (!Array.isArray(body)) throw invalidPayload([{ field: 'body', message: 'must be a JSON array of events' }]);
      let recorded = 0;
      let ignored = 0;
      for (const item of body) {
        const parsed = sendGridEvent.safeParse(item);
        // One malformed event must not make SendGrid re-post the batch: it is skipped and logged.
        if (parsed.success && (await apply(request, parsed.data))) recorded++;
        else {
          ignored++;
          if (!parsed.success) request.log.warn({ issue: parsed.error.issues[0]?.message }, 'sendgrid event skipped');
        }
      }
      return { recorded, ignored };
    },
  );
};

const inboundParseRoutes: FastifyPluginAsyncZod<CommandRouteOptions & { inbound: InboundCommands }> = async (
  app,
  { deps, inbound },
) => {
  const { secrets, maxBytes } = deps.config.sendGrid.inbound;
  await app.register(fastifyMultipart, {
    limits: { fileSize: maxBytes, fieldSize: maxBytes, files: 50, fields: 200, parts: 250 },
  });

  const authorised = (request: FastifyRequest) => {
    // No secret is only possible in local mode (production refuses to start).
    if (secrets.length === 0) return true;
    const inPath = (request.params as { secret?: string }).secret;
    const basic = basicPassword(request.headers.authorization);
    const given = inPath ?? basic;
    return given !== null && given !== undefined && secrets.some((s) => sameSecret(s, given));
  };

  // Before the body is read: an unauthenticated upload is refused without being parsed.
  app.addHook('onRequest', async (request) => {
    if (!authorised(request)) {
      request.log.warn({ route: request.routeOptions.url }, 'sendgrid inbound parse secret rejected');
      throw new Problem(403, 'invalid-secret', 'Invalid Inbound Parse secret', {
        detail: 'the URL path secret or the basic-auth password does not match SENDGRID_INBOUND_SECRET',
      });
    }
  });

  const handler = async (request: FastifyRequest) => {
    const email = await readInboundParse(request, maxBytes);
    const now = deps.clock.now().toISOString();
    const { to, from } = addressesOf(email);
    const received = await inbound.receive(request, sendGridProvider, providerMessageIdOf(email), {
      channel: 'email',
      from,
      to,
      body: email.html ?? email.text ?? '',
      attachments: [],
      attachmentFiles: email.files,
      subject: email.subject ?? null,
      cc: [],
      bcc: [],
      replyTo: null,
      // Inbound Parse stamps no time on the post: the message's time is when it reached us.
      timestamp: now,
      provider: sendGridProvider,
      providerMessageId: providerMessageIdOf(email),
      receivedAt: now,
    });
    return received;
  };
  const schema = {
    tags: ['webhooks'],
    summary: 'SendGrid Inbound Parse (multipart/form-data); the secret in the path or as the basic-auth password',
    response: { 200: receivedResponse, ...problemResponses(400, 403, 413, 415, 422, 503) },
  };
  app.post('/api/webhooks/sendgrid/inbound', { schema }, handler);
  app.post('/api/webhooks/sendgrid/inbound/:secret', { schema }, handler);
};

function basicPassword(header: string | undefined): string | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return at >= 0 ? decoded.slice(at + 1) : null;
}

/** The SMTP envelope's addresses are bare (no display names); the headers' `to`/`from` are the fallback. */
function addressesOf(email: ParsedEmail): { to: string; from: string } {
  const bare = (header: string | undefined) => header?.match(/<([^>]+)>/)?.[1] ?? header?.split(',')[0]?.trim() ?? '';
  const to = email.envelope?.to?.[0] ?? bare(email.to);
  const from = email.envelope?.from ?? bare(email.from);
  if (!to || !from)
    throw invalidPayload([
      ...(to ? [] : [{ field: 'body.to', message: 'is required (to or envelope.to)' }]),
      ...(from ? [] : [{ field: 'body.from', message: 'is required (from or envelope.from)' }]),
    ]);
  return { to, from };
}

/**
 * Inbound Parse carries no id of its own: the Message-ID header names the mail, else a digest of what
 * arrived, so a re-posted mail (SendGrid retries on any non-2xx) is the same message.
 */
function providerMessageIdOf(email: ParsedEmail): string {
  const header = email.headers?.match(/^message-id:\s*(.+)$/im)?.[1]?.trim();
  if (header) return header.slice(0, 256);
  const digest = createHash('sha256');
  for (const part of [email.from, email.to, email.subject, email.text, email.html, JSON.stringify(email.files)])
    digest.update(part ?? '').update('\u0000');
  return `sha256:${digest.digest('hex')}`;
}
