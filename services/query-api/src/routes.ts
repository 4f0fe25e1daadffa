// The query routes as one self-contained plugin: mounted by the query API's own server and by the
// command API's server (one base URL for clients). Its hooks stay inside the plugin.
import type { EventStore } from '@hatch/event-store';
import { fastSerializerCompiler, type HttpApp, Problem, problemResponses } from '@hatch/http';
import type { Logger } from '@hatch/platform';
import type { ReadPool } from '@hatch/projections';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ChangeFeed } from './change-feed.ts';
import {
  contactConversationsSchema,
  contactListSchema,
  contactSearchQuery,
  contactWithConsentSchema,
} from './contact-schemas.ts';
import { ContactsReadModel } from './contacts-read-model.ts';
import { streamChanges } from './live-stream.ts';
import { LiveStreams } from './live-streams.ts';
import { normaliseParticipant } from './participant.ts';
import { type AccountScope, ReadModel } from './read-model.ts';
import {
  conversationPageSchema,
  conversationSchema,
  idParams,
  invalidPosition,
  listConversationsQuery,
  messagePageSchema,
  messageWithHistorySchema,
  pageQuery,
  positionSchema,
  readQuery,
  streamQuery,
} from './schemas.ts';
import { ProjectionWatermark } from './watermark.ts';

export interface QueryRoutesDeps {
  /** A read pool (`createReadPool`) on the database holding the read tables. */
  pool: ReadPool;
  /** The event log, read by the live stream. */
  store: EventStore;
  logger: Logger;
  /**
   * The account a request reads (the command API: the caller's, `request.accountId`); null: every account,
   * only for the standalone query API, which operators alone may read (OPERATOR_TOKEN).
   */
  accountScope: (request: FastifyRequest) => AccountScope;
  /** Longest a read-your-writes query waits for the projection (default 5000 ms). */
  readYourWritesTimeoutMs?: number;
  /** SSE heartbeat comment interval (default 15000 ms). */
  heartbeatMs?: number;
  /** How often waiting requests re-check the projection checkpoint (default 50 ms). */
  watermarkPollMs?: number;
  /**
   * The process's open live streams with their caps (`new LiveStreams(liveStreamLimitsFrom(env))`); pass
   * one to end streams from outside (`endWhere`, e.g. on key revocation). Default: the default caps.
   */
  streams?: LiveStreams;
}

export const minPositionHeader = 'x-hatch-min-position';
export const positionHeader = 'x-hatch-position';

const errors = problemResponses(400, 404, 503);
const streamErrors = problemResponses(400, 404, 429, 503);

// Another account's conversation or message answers exactly like one that does not exist.
const conversationNotFound = (id: string) =>
  new Problem(404, 'not-found', 'Conversation not found', { detail: `no conversation ${id}` });
const messageNotFound = (id: string) =>
  new Problem(404, 'not-found', 'Message not found', { detail: `no message ${id}` });

export function registerQueryRoutes(app: HttpApp, deps: QueryRoutesDeps) {
  return app.register(async (plugin) => {
    // Inside this plugin only: the answers of the read routes (pages of 50 items) are the large ones.
    plugin.setSerializerCompiler(fastSerializerCompiler);
    const api = plugin.withTypeProvider<ZodTypeProvider>();
    const readModel = new ReadModel(deps.pool);
    const contacts = new ContactsReadModel(deps.pool);
    const watermark = new ProjectionWatermark(deps.pool, deps.watermarkPollMs ?? 50);
    const timeoutMs = deps.readYourWritesTimeoutMs ?? 5000;
    const streams = deps.streams ?? new LiveStreams();
    const feed = new ChangeFeed({ store: deps.store, readModel, watermark, logger: deps.logger });
    const stream = { feed, streams, watermark, logger: deps.logger, heartbeatMs: deps.heartbeatMs ?? 15_000 };
    // Streams never go idle: end them before the server waits for its connections to close.
    api.addHook('preClose', async () => {
      streams.endAll();
      feed.close();
      watermark.close();
    });

    /** A position the log does not understand is the client's mistake (400), not a wait or a 500. */
    const checkPosition = async (position: string, source: string) => {
      try {
        await deps.store.readAll({ after: position, limit: 1 });
      } catch (error) {
        if (error instanceof TypeError || error instanceof RangeError) throw invalidPosition(source);
        throw error;
      }
      return position;
    };

    /** Read-your-writes: wait (bounded) until the read model has applied the position the client wrote at. */
    async function consistentRead(request: FastifyRequest, reply: FastifyReply) {
      const header = request.headers[minPositionHeader];
      const fromQuery = (request.query as { after?: string } | undefined)?.after;
      let wanted = fromQuery ?? (typeof header === 'string' ? header : undefined);
      if (wanted !== undefined) {
        const parsed = positionSchema.safeParse(wanted);
        const source = fromQuery !== undefined ? 'querystring.after' : `headers.${minPositionHeader}`;
        if (!parsed.success) throw invalidPosition(source);
        wanted = await checkPosition(parsed.data, source);
        const reached = await watermark.waitFor(wanted, { inclusive: true, timeoutMs });
        if (reached === null)
          throw new Problem(
            503,
            'projection-behind',
            'Read model not caught up',
            {
              detail: `the read model has not reached position ${wanted} within ${timeoutMs} ms; retry`,
              position: wanted,
            },
            { 'retry-after': '1' },
          );
        reply.header(positionHeader, reached);
        return;
      }
      const now = await watermark.current();
      if (now !== null) reply.header(positionHeader, now);
    }

    api.get(
      '/api/conversations',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['query'],
          summary: 'Conversations, latest activity first',
          querystring: listConversationsQuery,
          response: { 200: conversationPageSchema, ...errors },
        },
      },
      async (request) => {
        return readModel.listConversations({
          account: deps.accountScope(request),
          participant: request.query.participant ? normaliseParticipant(request.query.participant) : undefined,
          channel: request.query.channel,
          limit: request.query.limit,
          cursor: request.query.cursor,
        });
      },
    );

    api.get(
      '/api/conversations/:id',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['query'],
          summary: 'One conversation',
          params: idParams,
          querystring: readQuery,
          response: { 200: conversationSchema, ...errors },
        },
      },
      async (request) => {
        const conversation = await readModel.conversation(request.params.id, deps.accountScope(request));
        if (!conversation) throw conversationNotFound(request.params.id);
        return conversation;
      },
    );

    api.get(
      '/api/contacts',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['contacts'],
          summary: 'Contacts (not merged away), searched by part of a name, a phone number or an email address',
          querystring: contactSearchQuery.extend(readQuery.shape),
          response: { 200: contactListSchema, ...errors },
        },
      },
      async (request) => ({
        items: await contacts.search(deps.accountScope(request), request.query.q, request.query.limit),
      }),
    );

    api.get(
      '/api/contacts/:id',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['contacts'],
          summary: 'A contact with its addresses and its opt-out state per channel and sender',
          params: idParams,
          querystring: readQuery,
          response: { 200: contactWithConsentSchema, ...errors },
        },
      },
      async (request) => {
        const contact = await contacts.contact(deps.accountScope(request), request.params.id);
        if (!contact)
          throw new Problem(404, 'not-found', 'Contact not found', { detail: `no contact ${request.params.id}` });
        return contact;
      },
    );

    api.get(
      '/api/contacts/:id/conversations',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['contacts'],
          summary: 'Every conversation with this contact across SMS, MMS and email, newest activity first',
          params: idParams,
          querystring: contactSearchQuery.pick({ limit: true }).extend(readQuery.shape),
          response: { 200: contactConversationsSchema, ...errors },
        },
      },
      async (request) => {
        if (!(await contacts.contact(deps.accountScope(request), request.params.id)))
          throw new Problem(404, 'not-found', 'Contact not found', { detail: `no contact ${request.params.id}` });
        const ids = await contacts.conversationIds(request.params.id, request.query.limit);
        const found = await Promise.all(ids.map((id) => readModel.conversation(id)));
        const items = found.filter((c): c is NonNullable<typeof c> => c !== null);
        return { items };
      },
    );

    api.get(
      '/api/conversations/:id/messages',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['query'],
          summary: "A conversation's messages, oldest first",
          params: idParams,
          querystring: pageQuery,
          response: { 200: messagePageSchema, ...errors },
        },
      },
      async (request) => {
        const account = deps.accountScope(request);
        const page = await readModel.conversationMessages(request.params.id, { ...request.query, account });
        if (page.items.length === 0 && request.query.cursor === undefined) {
          if (!(await readModel.conversation(request.params.id, account)))
            throw conversationNotFound(request.params.id);
        }
        return page;
      },
    );

    api.get(
      '/api/messages/:id',
      {
        preHandler: consistentRead,
        schema: {
          tags: ['query'],
          summary: 'A message with its status history',
          params: idParams,
          querystring: readQuery,
          response: { 200: messageWithHistorySchema, ...errors },
        },
      },
      async (request) => {
        const message = await readModel.message(request.params.id, deps.accountScope(request));
        if (!message) throw messageNotFound(request.params.id);
        return message;
      },
    );

    const resumeAfter = async (request: FastifyRequest, lastEventId: string | undefined) => {
      const header = request.headers['last-event-id'];
      const value = typeof header === 'string' && header !== '' ? header : lastEventId;
      if (value === undefined) return null;
      const parsed = positionSchema.safeParse(value);
      const source = typeof header === 'string' && header !== '' ? 'headers.last-event-id' : 'querystring.lastEventId';
      if (!parsed.success) throw invalidPosition(source);
      return checkPosition(parsed.data, source);
    };
    const sseResponse = {
      200: z.string().describe('text/event-stream; each event: id = log position, event = type, data = change JSON'),
      ...streamErrors,
    };

    api.get(
      '/api/stream',
      {
        schema: {
          tags: ['query'],
          summary: "Live changes of every conversation of the caller's account (SSE)",
          querystring: streamQuery,
          response: sseResponse,
        },
      },
      async (request, reply) =>
        streamChanges(stream, request, reply, {
          account: deps.accountScope(request),
          resumeAfter: await resumeAfter(request, request.query.lastEventId),
        }),
    );

    api.get(
      '/api/conversations/:id/stream',
      {
        // Read-your-writes (X-Hatch-Min-Position) for the existence check of a just-started conversation.
        preHandler: consistentRead,
        schema: {
          tags: ['query'],
          summary: 'Live changes of one conversation (SSE)',
          params: idParams,
          querystring: streamQuery,
          response: sseResponse,
        },
      },
      async (request, reply) => {
        const account = deps.accountScope(request);
        const resume = await resumeAfter(request, request.query.lastEventId);
        if (!(await readModel.conversation(request.params.id, account))) throw conversationNotFound(request.params.id);
        return streamChanges(stream, request, reply, {
          account,
          conversationId: request.params.id,
          resumeAfter: resume,
        });
      },
    );
  });
}
