// Queries over the read tables (written by the projector). Rows are mapped to the API shapes here.
import type pg from 'pg';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Conversation, Message, StatusChange } from './schemas.ts';

const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
const fromMicros = (param: string) => `('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond')`;

interface ConversationRow {
  conversation_id: string;
  participants: string[];
  channels: Conversation['channels'];
  message_count: number;
  first_message_at: Date;
  last_activity_at: Date;
  last_message_id: string;
  last_message_direction: 'outbound' | 'inbound';
  last_message_channel: Conversation['channels'][number];
  last_message_preview: string;
  sort_micros: string;
}

const toConversation = (r: ConversationRow): Conversation => ({
  id: r.conversation_id,
  participants: r.participants,
  channels: r.channels,
  messageCount: r.message_count,
  firstMessageAt: r.first_message_at.toISOString(),
  lastActivityAt: r.last_activity_at.toISOString(),
  lastMessage: {
    id: r.last_message_id,
    direction: r.last_message_direction,
    channel: r.last_message_channel,
    preview: r.last_message_preview,
  },
});

interface MessageRow {
  message_id: string;
  conversation_id: string;
  direction: Message['direction'];
  channel: Message['channel'];
  from_address: string;
  to_address: string;
  body: string;
  attachments: string[];
  subject: string | null;
  cc: string[] | null;
  bcc: string[] | null;
  reply_to: string | null;
  status: Message['status'];
  send_at: Date | null;
  cancelled_at: Date | null;
  provider: string | null;
  provider_message_id: string | null;
  attempts: number;
  last_error: string | null;
  error_code: string | null;
  client_timestamp: Date | null;
  occurred_at: Date;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  undelivered_at: Date | null;
  failed_at: Date | null;
  status_changed_at: Date | null;
  sort_micros: string;
}

const toMessage = (r: MessageRow): Message => ({
  id: r.message_id,
  conversationId: r.conversation_id,
  direction: r.direction,
  channel: r.channel,
  from: r.from_address,
  to: r.to_address,
  body: r.body,
  attachments: r.attachments ?? [],
  subject: r.subject,
  cc: r.cc ?? [],
  bcc: r.bcc ?? [],
  replyTo: r.reply_to,
  status: r.status,
  sendAt: iso(r.send_at),
  cancelledAt: iso(r.cancelled_at),
  provider: r.provider,
  providerMessageId: r.provider_message_id,
  attempts: r.attempts,
  lastError: r.last_error,
  errorCode: r.error_code,
  timestamp: iso(r.client_timestamp),
  createdAt: r.occurred_at.toISOString(),
  nextAttemptAt: iso(r.next_attempt_at),
  sentAt: iso(r.sent_at),
  deliveredAt: iso(r.delivered_at),
  undeliveredAt: iso(r.undelivered_at),
  failedAt: iso(r.failed_at),
  statusChangedAt: iso(r.status_changed_at),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ReadModel {
  constructor(private readonly db: pg.Pool) {}

  /** Newest activity first; keyset on (last_activity_at, conversation_id) descending. */
  async listConversations(options: {
    participant?: string | undefined;
    channel?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Conversation>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (options.participant !== undefined)
      where.push(
        `c.conversation_id IN (SELECT conversation_id FROM conversation_participants WHERE address = ${param(options.participant)})`,
      );
    if (options.channel !== undefined) where.push(`${param(options.channel)} = ANY(c.channels)`);
    if (options.cursor !== undefined) {
      const key = decodeCursor(options.cursor);
      where.push(
        `(c.last_activity_at, c.conversation_id) < (${fromMicros(param(key.micros))}, ${param(key.id)}::uuid)`,
      );
    }
    const { rows } = await this.db.query<ConversationRow>(
      `SELECT c.*, ${micros('c.last_activity_at')} AS sort_micros FROM conversations c
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.last_activity_at DESC, c.conversation_id DESC
        LIMIT ${param(options.limit + 1)}`,
      values,
    );
    return page(rows, options.limit, toConversation, (r) => ({ micros: r.sort_micros, id: r.conversation_id }));
  }

  async conversation(id: string): Promise<Conversation | null> {
    const { rows } = await this.db.query<ConversationRow>(
      `SELECT c.*, '' AS sort_micros FROM conversations c WHERE conversation_id = $1`,
      [id],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  /** Oldest first; keyset on (occurred_at, message_id). */
  async conversationMessages(
    conversationId: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<Page<Message>> {
    const values: unknown[] = [conversationId, options.limit + 1];
    let after = '';
    if (options.cursor !== undefined) {
      const key = decodeCursor(options.cursor);
      values.push(key.micros, key.id);
      after = `AND (m.occurred_at, m.message_id) > (${fromMicros('$3')}, $4::uuid)`;
    }
    const { rows } = await this.db.query<MessageRow>(
      `SELECT m.*, ${micros('m.occurred_at')} AS sort_micros FROM messages m
        WHERE m.conversation_id = $1 ${after}
        ORDER BY m.occurred_at, m.message_id
        LIMIT $2`,
      values,
    );
    return page(rows, options.limit, toMessage, (r) => ({ micros: r.sort_micros, id: r.message_id }));
  }

  /** A message with its status history, or null (also while only receipts for it have arrived). */
  async message(id: string): Promise<(Message & { history: StatusChange[] }) | null> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT m.*, '' AS sort_micros FROM messages m WHERE message_id = $1 AND conversation_id IS NOT NULL`,
      [id],
    );
    if (!rows[0]) return null;
    const history = await this.db.query(
      `SELECT position, event_type, status, occurred_at, recorded_at, provider, provider_message_id, attempt, reason,
              provider_status, error_code, due_at
         FROM message_events WHERE message_id = $1 ORDER BY position`,
      [id],
    );
    return {
      ...toMessage(rows[0]),
      history: history.rows.map((h) => ({
        position: h.position,
        type: h.event_type,
        status: h.status,
        occurredAt: h.occurred_at.toISOString(),
        recordedAt: h.recorded_at.toISOString(),
        provider: h.provider,
        providerMessageId: h.provider_message_id,
        attempt: h.attempt,
        reason: h.reason,
        providerStatus: h.provider_status,
        errorCode: h.error_code,
        dueAt: iso(h.due_at),
      })),
    };
  }

  /** Conversation of each message (null while only receipts arrived), for the live stream's filter. */
  async conversationsOf(messageIds: string[]): Promise<Map<string, string | null>> {
    if (messageIds.length === 0) return new Map();
    const { rows } = await this.db.query<{ message_id: string; conversation_id: string | null }>(
      'SELECT message_id, conversation_id FROM messages WHERE message_id = ANY($1::uuid[])',
      [messageIds],
    );
    return new Map(rows.map((r) => [r.message_id, r.conversation_id]));
  }
}

function page<R, T>(rows: R[], limit: number, map: (r: R) => T, key: (r: R) => { micros: string; id: string }) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}
