// DELETE /api/messages/:id: cancels a scheduled send while it is still scheduled. The decision is made on
// the stream as read and appended expecting that version; a dispatcher taking the message at the same
// moment appends MessageDispatchStarted at the same version, so exactly one of them wins — the loser
// here re-reads and answers 409.
import {
  decideCancel,
  isMessageEventType,
  type MessageEvent,
  messageStateFrom,
  messageStreamId,
  parseMessageEvent,
} from '@hatch/domain';
import { WrongExpectedVersionError } from '@hatch/event-store';
import { type HttpApp, Problem } from '@hatch/http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CommandDeps } from './command-deps.ts';
import type { DurableLog } from './durable-append.ts';
import { cancelledResponse } from './payloads.ts';

export function registerCancelRoute(app: HttpApp, deps: CommandDeps, log: DurableLog) {
  async function cancel(request: FastifyRequest, messageId: string, attemptsLeft = 2) {
    const past = await log.readStream(messageStreamId(messageId));
    const known: MessageEvent[] = past
      .filter((e) => isMessageEventType(e.type))
      .map((e) => parseMessageEvent(e.type, e.data));
    const requested = known.find((e) => e.type === 'MessageRequested');
    const decision = decideCancel(
      {
        type: 'CancelMessage',
        data: { messageId, clientId: request.clientId, cancelledAt: deps.clock.now().toISOString() },
      },
      messageStateFrom(known),
      requested?.type === 'MessageRequested' ? requested.data.clientId : null,
    );
    if (!decision.ok) {
      if (decision.reason === 'not_found')
        throw new Problem(404, 'not-found', 'Message not found', {
          detail: `no message ${messageId} sent by this client`,
        });
      if (decision.reason === 'already_cancelled')
        return { id: messageId, status: 'cancelled' as const, position: null };
      throw new Problem(409, 'message-not-cancellable', 'Message can no longer be cancelled', {
        detail: `only a scheduled send can be cancelled before dispatch begins; this one is ${decision.status}`,
        messageStatus: decision.status,
      });
    }
    const version = (past.at(-1)?.streamVersion ?? -1) as number;
    try {
      const result = await log.append(
        decision.streamId,
        [
          {
            ...decision.event,
            metadata: { correlationId: request.id, causationId: null, actor: request.clientId, schemaVersion: 1 },
          },
        ],
        version,
      );
      request.log.info({ messageId }, 'scheduled send cancelled');
      return { id: messageId, status: 'cancelled' as const, position: result.position };
    } catch (error) {
      // The dispatcher (or another cancel) got there first: judge again on what it wrote.
      if (error instanceof WrongExpectedVersionError && attemptsLeft > 0)
        return cancel(request, messageId, attemptsLeft - 1);
      throw error;
    }
  }

  app.delete(
    '/api/messages/:id',
    {
      schema: {
        summary: 'Cancel a scheduled send',
        description:
          'Cancels a send scheduled with send_at while it is still scheduled (MessageCancelled). 409 once dispatch began or for a send that was not scheduled; cancelling again answers 200.',
        tags: ['messages'],
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: { 200: cancelledResponse },
      },
    },
    async (request) => cancel(request, (request.params as { id: string }).id),
  );
}
