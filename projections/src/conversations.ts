// `conversations` and `conversation_participants`: a conversation per participant set (its id comes with
// MessageRequested / MessageReceived), with the channels seen, message count, last activity and a preview
// of the latest message. Last activity is the latest message's own time (requestedAt / receivedAt), never
// the wall clock, so a rebuild yields the same rows.
import { type MessageEventOf, messageAccountOf } from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';
import type { ProjectedEvent, Projection } from './projection.ts';
import { compareInstants, qualified, selectRowsByIdSql, writeRows } from './sql.ts';

export interface ConversationRow {
  conversation_id: string;
  /** Every message of a conversation is its account's: the id derives from the account and the participants. */
  account_id: string;
  participants: string[];
  channels: string[];
  message_count: number;
  first_message_at: string;
  last_activity_at: string;
  last_message_id: string;
  last_message_direction: 'outbound' | 'inbound';
  last_message_channel: string;
  last_message_preview: string;
  updated_position: string;
}

export const conversationColumns = [
  'conversation_id',
  'account_id',
  'participants',
  'channels',
  'message_count',
  'first_message_at',
  'last_activity_at',
  'last_message_id',
  'last_message_direction',
  'last_message_channel',
  'last_message_preview',
  'updated_position',
] as const satisfies readonly (keyof ConversationRow)[];

export const previewLength = 140;

/** The first characters of a message for a conversation list (code points, so emoji are never cut in half). */
export function messagePreview(body: string, subject: string | null): string {
  const text = (body.trim() === '' && subject ? subject : body).replace(/\s+/g, ' ').trim();
  const chars = Array.from(text);
  return chars.length <= previewLength ? text : `${chars.slice(0, previewLength - 1).join('')}…`;
}

const sortedUnion = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])].sort();

/** The participant set of a message: sender and recipient (already normalised by the domain). */
export const participantsOf = (data: { from: string; to: string }) => sortedUnion([data.from], [data.to]);

type MessageArrived = MessageEventOf<'MessageRequested'> | MessageEventOf<'MessageReceived'>;

/** Pure: the conversation row after a message arrived in it. */
export function evolveConversation(
  current: ConversationRow | null,
  event: MessageArrived,
  position: string,
): ConversationRow {
  const d = event.data;
  const at = event.type === 'MessageRequested' ? event.data.requestedAt : event.data.receivedAt;
  const latest = {
    last_activity_at: at,
    last_message_id: d.messageId,
    last_message_direction: event.type === 'MessageRequested' ? ('outbound' as const) : ('inbound' as const),
    last_message_channel: d.channel,
    last_message_preview: messagePreview(d.body, d.subject),
  };
  if (current === null) {
    return {
      conversation_id: d.conversationId,
      account_id: messageAccountOf(d),
      participants: participantsOf(d),
      channels: [d.channel],
      message_count: 1,
      first_message_at: at,
      ...latest,
      updated_position: position,
    };
  }
  // Ties go to the later event in the log, which is also what a rebuild sees last.
  const isLatest = compareInstants(at, current.last_activity_at) >= 0;
  return {
    ...current,
    participants: sortedUnion(current.participants, participantsOf(d)),
    channels: sortedUnion(current.channels, [d.channel]),
    message_count: current.message_count + 1,
    first_message_at: compareInstants(at, current.first_message_at) < 0 ? at : current.first_message_at,
    ...(isLatest ? latest : {}),
    updated_position: position,
  };
}

const isArrival = (e: ProjectedEvent): e is ProjectedEvent & { event: MessageArrived } =>
  e.event.type === 'MessageRequested' || e.event.type === 'MessageReceived';

export const conversationsProjection: Projection = {
  name: 'conversations',
  tables: ['conversations', 'conversation_participants'],
  async apply(db: Queryable, schema: string, events: readonly ProjectedEvent[]) {
    const arrivals = events.filter(isArrival);
    if (arrivals.length === 0) return;
    const ids = [...new Set(arrivals.map((e) => e.event.data.conversationId))];
    const { rows } = await db.query(selectRowsByIdSql(schema, 'conversations', 'conversation_id', 'uuid'), [ids]);
    const state = new Map<string, ConversationRow>();
    const knownParticipants = new Map<string, number>();
    for (const r of rows) {
      const row = r.row as ConversationRow;
      state.set(row.conversation_id, row);
      knownParticipants.set(row.conversation_id, row.participants.length);
    }
    for (const e of arrivals) {
      const id = e.event.data.conversationId;
      state.set(id, evolveConversation(state.get(id) ?? null, e.event, e.position));
    }
    const conversations = [...state.values()];
    await writeRows<ConversationRow>(
      db,
      { schema, table: 'conversations', columns: conversationColumns, key: 'conversation_id' },
      conversations,
      new Set(knownParticipants.keys()),
    );
    // Only conversations that are new or gained a participant need participant rows.
    const participants = conversations
      .filter((c) => knownParticipants.get(c.conversation_id) !== c.participants.length)
      .flatMap((c) => c.participants.map((address) => ({ conversation_id: c.conversation_id, address })));
    if (participants.length === 0) return;
    await db.query(
      `INSERT INTO ${qualified(schema, 'conversation_participants')} (conversation_id, address)
       SELECT conversation_id, address FROM json_populate_recordset(NULL::${qualified(schema, 'conversation_participants')}, $1::json)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(participants)],
    );
  },
};
