// POST /api/messages/sms and /api/messages/email: validate, decide MessageRequested, append it, answer
// 202 once it is durable. With an Idempotency-Key the message id derives from (client, key) and the log
// itself is the idempotency record: a repeated key finds its first event and replays that answer.
import { handleCommand } from '@hatch/commands';
import {
  type Channel,
  decideSend,
  localAccountId,
  messageFold,
  newId,
  outboundMessageId,
  parseMessageEvent,
  phoneChannel,
  requestFingerprint,
  type SendMessage,
} from '@hatch/domain';
import { type AppendResult, WrongExpectedVersionError } from '@hatch/event-store';
import { Problem, problemResponses } from '@hatch/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AccountDirectory } from './account-directory.ts';
import { refuseOptedOut } from './consent-check.ts';
import {
  acceptedResponse,
  idempotencyHeaders,
  invalidPayload,
  type SendEmailPayload,
  type SendSmsPayload,
  sendEmailPayload,
  sendSmsPayload,
} from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

type Accepted = { id: string; conversationId: string; status: 'queued' | 'scheduled'; position: string };

export const sendRoutes: FastifyPluginAsyncZod<CommandRouteOptions> = async (app, { deps, log }) => {
  const newMessageId = deps.newMessageId ?? newId;
  // Keys whose first request is still being written, per client: a concurrent retry gets 409.
  const inFlight = new Set<string>();

  async function replay(streamId: string, requestHash: string, key: string): Promise<Accepted> {
    const [first] = await log.readStream(streamId);
    const requested = first?.type === 'MessageRequested' ? parseMessageEvent(first.type, first.data) : null;
    if (!first || requested?.type !== 'MessageRequested' || requested.data.requestHash !== requestHash)
      throw new Problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', {
        detail: `Idempotency-Key ${key} was already used with a different request`,
      });
    return {
      id: requested.data.messageId,
      conversationId: requested.data.conversationId,
      status: requested.data.sendAt ? 'scheduled' : 'queued',
      position: first.position,
    };
  }

  const directory = deps.directory as AccountDirectory;

  /**
   * An account sends only from senders it owns. The local account owns whatever it sends from (claimed on
   * first use); a deprecated API_KEYS client, which is no account, is not checked.
   */
  async function refuseUnownedSender(request: FastifyRequest, channel: Channel, from: string) {
    const accountId = request.accountId;
    const isLocal = accountId === localAccountId;
    if (!isLocal && !(await directory.knows(accountId))) return;
    const use = await directory.useSender(accountId, channel, from, isLocal, request.id);
    if (use.ok) return;
    throw new Problem(403, 'sender-not-owned', 'Sender not owned', {
      detail:
        use.reason === 'taken' ? `${from} belongs to another account` : `this account does not own the sender ${from}`,
      errors: [{ field: 'body.from', message: 'is not a sender of this account' }],
    });
  }

  async function send(
    request: FastifyRequest,
    reply: FastifyReply,
    channel: Channel,
    content: Omit<
      SendMessage['data'],
      'messageId' | 'clientId' | 'requestedAt' | 'requestHash' | 'channel' | 'timestamp'
    > & {
      timestamp: string | undefined;
    },
    payload: SendSmsPayload | SendEmailPayload,
  ) {
    const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
    const accountId = request.accountId;
    // Every send has an idempotency key: the client's, else one we make up and echo (body and header, on
    // 202 and on 503/504 alike), so a client that got no definite answer can retry it blindly and safely.
    const token = key ?? `hatch-${newMessageId()}`;
    reply.header('idempotency-key', token);
    const messageId = outboundMessageId(accountId, token);
    const requestHash = requestFingerprint({ channel: request.routeOptions.url, payload });
    const requestedAt = deps.clock.now().toISOString();
    const decision = decideSend({
      type: 'SendMessage',
      data: {
        ...content,
        timestamp: content.timestamp ?? requestedAt,
        channel,
        messageId,
        clientId: accountId,
        requestedAt,
        requestHash,
      },
    });
    if (!decision.ok)
      throw decision.reason === 'invalid'
        ? invalidPayload(decision.errors)
        : new Problem(404, 'not-found', 'Not Found');

    const requested = decision.events[0] as (typeof decision.events)[number];
    try {
      await refuseOptedOut(log, requested.data);
    } catch (error) {
      // A retried key whose first request was accepted before the opt-out still gets its first answer.
      if (!key || (await log.readStream(decision.streamId)).length === 0) throw error;
      reply.header('idempotent-replayed', 'true');
      return reply.code(202).send({ ...(await replay(decision.streamId, requestHash, key)), idempotencyKey: token });
    }
    // After the refusals that need no write: the local account's first-use claim appends, and a request
    // refused anyway must not leave a claim behind (bin/fuzz checks no rejected request appends).
    await refuseUnownedSender(request, channel, requested.data.from);

    const flightKey = key ? `${accountId}\u0000${key}` : null;
    if (flightKey) {
      if (inFlight.has(flightKey))
        throw new Problem(
          409,
          'idempotency-key-in-flight',
          'Request in progress',
          { detail: `a request with Idempotency-Key ${key} is still being processed` },
          { 'retry-after': '1' },
        );
      inFlight.add(flightKey);
    }
    try {
      let accepted: Accepted;
      try {
        // A send's stream is new by construction (a fresh id, or one derived from the key): nothing to read.
        const { result } = await handleCommand(log, {
          streamId: decision.streamId,
          fold: messageFold,
          decide: () => decision,
          metadata: { correlationId: request.id, causationId: null, idempotencyKey: token, actor: accountId },
          concurrency: 'no_stream',
        }).catch((error: unknown) => {
          // The key is what makes a retry of a 503 or 504 safe: say it in the problem too.
          if (error instanceof Problem && (error.details.status === 503 || error.details.status === 504))
            error.details.idempotencyKey = token;
          throw error;
        });
        const { position, duplicate } = result as AppendResult;
        accepted = duplicate
          ? await replay(decision.streamId, requestHash, token)
          : {
              id: messageId,
              conversationId: requested.data.conversationId,
              status: requested.data.sendAt ? 'scheduled' : 'queued',
              position,
            };
        if (duplicate) reply.header('idempotent-replayed', 'true');
      } catch (error) {
        // Another instance wrote this key first: same answer rules as a duplicate.
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        accepted = await replay(decision.streamId, requestHash, token);
        reply.header('idempotent-replayed', 'true');
      }
      request.log.debug({ messageId, channel, accountId }, 'message requested');
      return reply.code(202).send({ ...accepted, idempotencyKey: token });
    } finally {
      if (flightKey) inFlight.delete(flightKey);
    }
  }

  app.post(
    '/api/messages/sms',
    {
      schema: {
        summary: 'Send an SMS or MMS',
        description:
          'Accepted once the MessageRequested event is durable. With Idempotency-Key, a retry with the same body replays the first answer (Idempotent-Replayed: true); a different body answers 422; a retry while the first is in flight answers 409.',
        tags: ['messages'],
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        body: sendSmsPayload,
        response: { 202: acceptedResponse, ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 503, 504) },
      },
    },
    async (request, reply) => {
      const p = request.body;
      const attachments = p.attachments ?? [];
      return send(
        request,
        reply,
        phoneChannel(p.type, attachments),
        {
          from: p.from,
          to: p.to,
          body: p.body,
          attachments,
          timestamp: p.timestamp,
          sendAt: p.send_at ?? null,
        },
        p,
      );
    },
  );

  app.post(
    '/api/messages/email',
    {
      schema: {
        summary: 'Send an email',
        description: 'The body may be HTML. Idempotency as for SMS.',
        tags: ['messages'],
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        body: sendEmailPayload,
        response: { 202: acceptedResponse, ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 503, 504) },
      },
    },
    async (request, reply) => {
      const p = request.body;
      return send(
        request,
        reply,
        'email',
        {
          from: p.from,
          to: p.to,
          body: p.body,
          attachments: p.attachments ?? [],
          subject: p.subject ?? null,
          cc: p.cc ?? [],
          bcc: p.bcc ?? [],
          replyTo: p.reply_to ?? null,
          timestamp: p.timestamp,
          sendAt: p.send_at ?? null,
        },
        p,
      );
    },
  );
};
