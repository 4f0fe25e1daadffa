// DELETE /api/messages/:id: cancels a scheduled send while it is still scheduled. Decided on the stream as
// read and appended expecting that version; a dispatcher taking the message at the same moment appends
// MessageDispatchStarted at the same version, so exactly one of them wins — the handler decides again on
// what the winner wrote (here: 409).
import { handleCommand } from '@hatch/commands';
import { decideCancel, messageFold, messageStreamId } from '@hatch/domain';
import { Problem } from '@hatch/http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { cancelledResponse } from './payloads.ts';
import type { CommandRouteOptions } from './route-options.ts';

export const cancelRoutes: FastifyPluginAsyncZod<CommandRouteOptions> = async (app, { deps, log }) => {
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
    async (request) => {
      const messageId = request.params.id;
      const command = {
        type: 'CancelMessage' as const,
        data: { messageId, clientId: request.accountId, cancelledAt: deps.clock.now().toISOString() },
      };
      const { decision, result } = await handleCommand(log, {
        streamId: messageStreamId(messageId),
        fold: messageFold,
        decide: (state) => decideCancel(command, state),
        metadata: { correlationId: request.id, causationId: null, actor: request.accountId },
      });
      if (decision.ok) {
        request.log.info({ messageId }, 'scheduled send cancelled');
        return { id: messageId, status: 'cancelled' as const, position: result?.position ?? null };
      }
      if (decision.reason === 'already_cancelled')
        return { id: messageId, status: 'cancelled' as const, position: null };
      if (decision.reason === 'not_found')
        throw new Problem(404, 'not-found', 'Message not found', {
          detail: `no message ${messageId} sent by this client`,
        });
      throw new Problem(409, 'message-not-cancellable', 'Message can no longer be cancelled', {
        detail: `only a scheduled send can be cancelled before dispatch begins; this one is ${decision.status}`,
        messageStatus: decision.status,
      });
    },
  );
};
