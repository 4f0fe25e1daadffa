// Queries over the read tables (written by the projector). Each query declares its row schema, which the
// read pool parses every row with (drift between a migration and this reader fails loudly); rows are
// then mapped to the API shapes here.
import { channelSchema } from '@hatch/domain';
import type { ReadPool } from '@hatch/projections';
import { messageStatuses } from '@hatch/vocabulary';
import { type IdentifierSqlToken, sql } from 'slonik';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Conversation, Message, StatusChange } from './schemas.ts';

const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const micros = (column: IdentifierSqlToken) => sql.fragment`(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
const fromMicros = (value: string) =>
  sql.fragment`('epoch'::timestamptz + ${value}::bigint * interval '1 microsecond')`;
/** The columns a row schema names, qualified with the table alias (the schema is the column list); built once. */
const columns = (alias: string, schema: z.ZodObject) =>
  sql.join(
    Object.keys(schema.shape).map((name) => sql.identifier([alias, name])),
    sql.fragment`, `,
  );

const direction = z.enum(['outbound', 'inbound']);

const conversationRow = z.object({
  conversation_id: z.string(),
  participants: z.array(z.string()),
  channels: z.array(channelSchema),
  message_count: z.number().int(),
  first_message_at: z.date(),
  last_activity_at: z.date(),
  last_message_id: z.string(),
  last_message_direction: direction,
  last_message_channel: channelSchema,
  last_message_preview: z.string(),
});
// The contact behind each participant, in participant order, from the conversation's own account (its
// account_id: never another account's holder of the same address); null when no participant is a contact.
const contactColumns = z.object({
  contact_addresses: z.array(z.string()).nullable(),
  contact_ids: z.array(z.string()).nullable(),
  contact_names: z.array(z.string().nullable()).nullable(),
});
const listedConversationRow = conversationRow.extend(contactColumns.shape);
const conversationPageRow = listedConversationRow.extend({ sort_micros: z.string() });
const conversationColumns = columns('c', conversationRow);
/** Joined after `FROM conversations c`: one lateral lookup per row, by the primary keys of both tables. */
const contactsOfConversation = sql.fragment`LEFT JOIN LATERAL (
    SELECT array_agg(a.address ORDER BY p.ord) AS contact_addresses,
           array_agg(a.contact_id::text ORDER BY p.ord) AS contact_ids,
           array_agg(k.display_name ORDER BY p.ord) AS contact_names
      FROM unnest(c.participants) WITH ORDINALITY AS p(address, ord)
      JOIN contact_addresses a ON a.account_id = c.account_id AND a.address = p.address
      JOIN contacts k ON k.account_id = a.account_id AND k.contact_id = a.contact_id
  ) holders ON TRUE`;
const listedConversationColumns = sql.fragment`${conversationColumns}, holders.contact_addresses,
  holders.contact_ids, holders.contact_names`;
const conversationSortKey = micros(sql.identifier(['c', 'last_activity_at']));

const contactsOf = (r: z.infer<typeof contactColumns>): NonNullable<Conversation['contacts']> =>
  (r.contact_addresses ?? []).map((address, i) => ({
    address,
    contactId: r.contact_ids?.[i] ?? '',
    displayName: r.contact_names?.[i] ?? null,
  }));

const toConversation = (r: z.infer<typeof listedConversationRow>): Conversation => ({
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
  contacts: contactsOf(r),
});

const nullableText = z.string().nullable();
const nullableInstant = z.date().nullable();
const messageRow = z.object({
  message_id: z.string(),
  conversation_id: z.string(),
  direction,
  channel: channelSchema,
  from_address: z.string(),
  to_address: z.string(),
  body: z.string(),
  attachments: z.array(z.string()).nullable(),
  subject: nullableText,
  cc: z.array(z.string()).nullable(),
  bcc: z.array(z.string()).nullable(),
  reply_to: nullableText,
  status: z.enum(messageStatuses),
  send_at: nullableInstant,
  cancelled_at: nullableInstant,
  provider: nullableText,
  provider_message_id: nullableText,
  attempts: z.number().int(),
  last_error: nullableText,
  error_code: nullableText,
  client_timestamp: nullableInstant,
  occurred_at: z.date(),
  next_attempt_at: nullableInstant,
  sent_at: nullableInstant,
  delivered_at: nullableInstant,
  undelivered_at: nullableInstant,
  failed_at: nullableInstant,
  status_changed_at: nullableInstant,
});
const messagePageRow = messageRow.extend({ sort_micros: z.string() });
const messageColumns = columns('m', messageRow);
const messageSortKey = micros(sql.identifier(['m', 'occurred_at']));

const toMessage = (r: z.infer<typeof messageRow>): Message => ({
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

const statusChangeRow = z.object({
  position: z.string(),
  event_type: z.string(),
  status: z.string(),
  occurred_at: z.date(),
  recorded_at: z.date(),
  provider: nullableText,
  provider_message_id: nullableText,
  attempt: z.number().int().nullable(),
  reason: nullableText,
  provider_status: z.number().int().nullable(),
  error_code: nullableText,
  due_at: nullableInstant,
});

const toStatusChange = (h: z.infer<typeof statusChangeRow>): StatusChange => ({
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
});

const statusChangeColumns = columns('e', statusChangeRow);

const messageOwnerRow = z.object({
  message_id: z.string(),
  account_id: z.string().nullable(),
  conversation_id: z.string().nullable(),
});

/** The account a read is limited to; null: every account (only the operator-guarded standalone query API). */
export type AccountScope = string | null;

/** Where a message belongs (both null while only receipts for it have arrived). */
export interface MessageOwner {
  accountId: string | null;
  conversationId: string | null;
}

/** The scope as a condition on `alias`.account_id (TRUE for every account). */
const inScope = (alias: string, account: AccountScope) =>
  account === null ? sql.fragment`TRUE` : sql.fragment`${sql.identifier([alias, 'account_id'])} = ${account}`;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class ReadModel {
  constructor(private readonly db: ReadPool) {}

  /** Newest activity first; keyset on (last_activity_at, conversation_id) descending. */
  async listConversations(options: {
    account: AccountScope;
    participant?: string | undefined;
    channel?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Conversation>> {
    const where = [inScope('c', options.account)];
    if (options.participant !== undefined)
      where.push(
        sql.fragment`c.conversation_id IN (SELECT conversation_id FROM conversation_participants WHERE address = ${options.participant})`,
      );
    if (options.channel !== undefined) where.push(sql.fragment`${options.channel} = ANY(c.channels)`);
    if (options.cursor !== undefined) {
      const key = decodeCursor(options.cursor);
      where.push(sql.fragment`(c.last_activity_at, c.conversation_id) < (${fromMicros(key.micros)}, ${key.id}::uuid)`);
    }
    const rows = await this.db.any(
      sql.type(conversationPageRow)`SELECT ${listedConversationColumns},
          ${conversationSortKey} AS sort_micros
        FROM conversations c ${contactsOfConversation} WHERE ${sql.join(where, sql.fragment` AND `)}
        ORDER BY c.last_activity_at DESC, c.conversation_id DESC
        LIMIT ${options.limit + 1}`,
    );
    return page(rows, options.limit, toConversation, (r) => ({ micros: r.sort_micros, id: r.conversation_id }));
  }

  /** With its contacts. `account` undefined: every account (the contact routes, until contacts are scoped by account). */
  async conversation(id: string, account: AccountScope = null): Promise<Conversation | null> {
    const row = await this.db.maybeOne(
      sql.type(listedConversationRow)`SELECT ${listedConversationColumns}
        FROM conversations c ${contactsOfConversation}
        WHERE c.conversation_id = ${id} AND ${inScope('c', account)}`,
    );
    return row ? toConversation(row) : null;
  }

  /** Oldest first; keyset on (occurred_at, message_id). */
  async conversationMessages(
    conversationId: string,
    options: { account: AccountScope; limit: number; cursor?: string | undefined },
  ): Promise<Page<Message>> {
    let after = sql.fragment``;
    if (options.cursor !== undefined) {
      const key = decodeCursor(options.cursor);
      after = sql.fragment`AND (m.occurred_at, m.message_id) > (${fromMicros(key.micros)}, ${key.id}::uuid)`;
    }
    const rows = await this.db.any(
      sql.type(messagePageRow)`SELECT ${messageColumns},
          ${messageSortKey} AS sort_micros
        FROM messages m
        WHERE m.conversation_id = ${conversationId} AND ${inScope('m', options.account)} ${after}
        ORDER BY m.occurred_at, m.message_id
        LIMIT ${options.limit + 1}`,
    );
    return page(rows, options.limit, toMessage, (r) => ({ micros: r.sort_micros, id: r.message_id }));
  }

  /** A message with its status history, or null (also while only receipts for it have arrived). */
  async message(id: string, account: AccountScope): Promise<(Message & { history: StatusChange[] }) | null> {
    const row = await this.db.maybeOne(
      sql.type(messageRow)`SELECT ${messageColumns} FROM messages m
        WHERE m.message_id = ${id} AND m.conversation_id IS NOT NULL AND ${inScope('m', account)}`,
    );
    if (!row) return null;
    const history = await this.db.any(
      sql.type(statusChangeRow)`SELECT ${statusChangeColumns} FROM message_events e
        WHERE message_id = ${id} ORDER BY position`,
    );
    return { ...toMessage(row), history: history.map(toStatusChange) };
  }

  /** Account and conversation of each message, for the live stream's filters (absent: no row yet). */
  async ownersOf(messageIds: string[]): Promise<Map<string, MessageOwner>> {
    if (messageIds.length === 0) return new Map();
    const rows = await this.db.any(
      sql.type(messageOwnerRow)`SELECT message_id, account_id, conversation_id FROM messages
        WHERE message_id = ANY(${sql.array(messageIds, 'uuid')})`,
    );
    return new Map(rows.map((r) => [r.message_id, { accountId: r.account_id, conversationId: r.conversation_id }]));
  }
}

function page<R, T>(
  rows: readonly R[],
  limit: number,
  map: (r: R) => T,
  key: (r: R) => { micros: string; id: string },
) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}
