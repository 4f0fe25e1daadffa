// "Do you have this message?" as each API lets a client ask it, for the dispatcher's lookups after a call
// whose result it never saw. The scaffold protocol has a direct GET by our message id; Twilio has none (no
// field of ours on a Message), only its Messages list filtered by To, From and DateSent, and a fetch by sid;
// SendGrid's only way is the Email Activity API's query on the `message_id` custom arg, or a fetch by msg_id.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ReceivedMessage, StoredAnswer } from './send-protocol.ts';
import { sendGridError } from './sendgrid-mock.ts';
import { parseBasicAuth, twilioError, twilioMessageResource } from './twilio-mock.ts';

const send = (reply: FastifyReply, answer: StoredAnswer) =>
  reply.code(answer.status).headers(answer.headers).send(answer.payload);

const accepted = (messages: () => Iterable<ReceivedMessage>, protocol?: ReceivedMessage['protocol']) =>
  [...messages()].filter((m) => m.outcome === 'accepted' && (!protocol || m.protocol === protocol));

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `YYYY-MM-DD` as Twilio's DateSent filters take it; null when absent, 'invalid' when malformed. */
function dayFilter(value: string | undefined): string | null | 'invalid' {
  if (value === undefined) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? value : 'invalid';
}

/** One clause of the Email Activity query language the mock understands. */
type ActivityClause = (m: ReceivedMessage) => boolean;

/** `msg_id="…"`, `msg_id LIKE '…%'`, `to_email="…"`, `from_email="…"`, `unique_args['k']="…"`, joined by AND. */
export function parseActivityQuery(query: string): ActivityClause[] | null {
  const clauses: ActivityClause[] = [];
  for (const part of query.split(/\s+AND\s+/i)) {
    const text = part.trim();
    let match = /^msg_id\s*=\s*"([^"]*)"$/.exec(text);
    if (match) {
      const id = match[1] as string;
      clauses.push((m) => activityMessageId(m) === id);
      continue;
    }
    match = /^msg_id\s+LIKE\s+'([^'%]*)%'$/i.exec(text);
    if (match) {
      const prefix = match[1] as string;
      clauses.push((m) => activityMessageId(m).startsWith(prefix));
      continue;
    }
    match = /^(to_email|from_email)\s*=\s*"([^"]*)"$/.exec(text);
    if (match) {
      const [, field, value] = match as unknown as [string, string, string];
      clauses.push((m) => (field === 'to_email' ? m.to : m.from) === value);
      continue;
    }
    match = /^unique_args\['([^']+)'\]\s*=\s*"([^"]*)"$/.exec(text);
    if (match) {
      const [, name, value] = match as unknown as [string, string, string];
      // The only custom arg the mock keeps is ours.
      clauses.push((m) => name === 'message_id' && m.messageId === value);
      continue;
    }
    return null;
  }
  return clauses;
}

/** Email Activity names a message by its full SendGrid message id: the X-Message-Id and a filter suffix. */
const activityMessageId = (m: ReceivedMessage) => `${m.providerMessageId}.filterdrecv-mock-0-0`;

const activityItem = (m: ReceivedMessage) => ({
  from_email: m.from,
  msg_id: activityMessageId(m),
  subject: '',
  to_email: m.to,
  status: 'delivered',
  opens_count: 0,
  clicks_count: 0,
  last_event_time: new Date(m.receivedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
});

export function registerLookupRoutes(
  app: FastifyInstance,
  kind: 'sms' | 'email',
  messages: () => Iterable<ReceivedMessage>,
) {
  app.get<{ Params: { messageId: string } }>('/v1/messages/by-message-id/:messageId', async (request, reply) => {
    const found = accepted(messages).find((m) => m.messageId === request.params.messageId);
    if (!found)
      return reply
        .code(404)
        .type('application/problem+json')
        .send({ type: 'about:blank', title: 'Not Found', status: 404 });
    return { id: found.providerMessageId, message_id: found.messageId, status: 'accepted' };
  });

  if (kind === 'sms') {
    app.get<{ Params: { accountSid: string }; Querystring: Record<string, string | undefined> }>(
      '/2010-04-01/Accounts/:accountSid/Messages.json',
      async (request, reply) => {
        const { accountSid } = request.params;
        const auth = parseBasicAuth(request.headers.authorization);
        if (!auth || auth.user !== accountSid)
          return send(reply, twilioError(401, 20003, 'Authentication Error - invalid username'));
        const q = request.query;
        const on = dayFilter(q.DateSent);
        const after = dayFilter(q['DateSent>']);
        const before = dayFilter(q['DateSent<']);
        if (on === 'invalid' || after === 'invalid' || before === 'invalid')
          return send(reply, twilioError(400, 20001, 'Invalid DateSent: expected YYYY-MM-DD'));
        const pageSize = Math.min(1000, Math.max(1, Number(q.PageSize ?? 50) || 50));
        const list = accepted(messages, 'twilio')
          .filter((m) => (!q.To || m.to === q.To) && (!q.From || m.from === q.From))
          .filter((m) => {
            const day = utcDay(m.receivedAt);
            return (!on || day === on) && (!after || day >= after) && (!before || day <= before);
          })
          .sort((a, b) => b.receivedAt - a.receivedAt)
          .slice(0, pageSize);
        const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
        return {
          messages: list.map((m) =>
            twilioMessageResource(accountSid, {
              sid: m.providerMessageId as string,
              from: m.from,
              to: m.to,
              body: m.body,
              status: 'sent',
              createdAt: m.receivedAt,
            }),
          ),
          end: Math.max(0, list.length - 1),
          first_page_uri: `${uri}?PageSize=${pageSize}&Page=0`,
          next_page_uri: null,
          page: 0,
          page_size: pageSize,
          previous_page_uri: null,
          start: 0,
          uri: `${uri}?PageSize=${pageSize}&Page=0`,
        };
      },
    );
    app.get<{ Params: { accountSid: string; resource: string } }>(
      '/2010-04-01/Accounts/:accountSid/Messages/:resource',
      async (request, reply) => {
        const { accountSid, resource } = request.params;
        const auth = parseBasicAuth(request.headers.authorization);
        if (!auth || auth.user !== accountSid)
          return send(reply, twilioError(401, 20003, 'Authentication Error - invalid username'));
        const sid = resource.endsWith('.json') ? resource.slice(0, -'.json'.length) : null;
        const found = sid ? accepted(messages, 'twilio').find((m) => m.providerMessageId === sid) : undefined;
        if (!found) return send(reply, twilioError(404, 20404, `The requested resource ${request.url} was not found`));
        return twilioMessageResource(accountSid, {
          sid: found.providerMessageId as string,
          from: found.from,
          to: found.to,
          body: found.body,
          status: 'sent',
          createdAt: found.receivedAt,
        });
      },
    );
    return;
  }

  app.get<{ Querystring: { query?: string; limit?: string } }>('/v3/messages', async (request, reply) => {
    if (!request.headers.authorization?.startsWith('Bearer '))
      return send(reply, sendGridError(401, 'authorization required', null));
    const clauses = parseActivityQuery(request.query.query ?? '');
    if (clauses === null) return send(reply, sendGridError(400, 'invalid query', 'query'));
    const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 10) || 10));
    const list = accepted(messages, 'sendgrid')
      .filter((m) => clauses.every((clause) => clause(m)))
      .sort((a, b) => b.receivedAt - a.receivedAt)
      .slice(0, limit);
    return { messages: list.map(activityItem) };
  });
  app.get<{ Params: { msgId: string } }>('/v3/messages/:msgId', async (request, reply) => {
    if (!request.headers.authorization?.startsWith('Bearer '))
      return send(reply, sendGridError(401, 'authorization required', null));
    const found = accepted(messages, 'sendgrid').find((m) => activityMessageId(m) === request.params.msgId);
    if (!found) return send(reply, sendGridError(404, 'Not Found', null));
    return { ...activityItem(found), events: [] };
  });
}
