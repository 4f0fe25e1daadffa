// Queries over the contacts tables (written by the `contacts` projection), each with its row schema
// (parsed on every row by the read pool). Every query takes the caller's account (`AccountScope`; null:
// every account, for the operator-guarded standalone query API): another account's contact is not found.
import { conversationBelongsTo } from '@hatch/domain';
import type { ReadPool } from '@hatch/projections';
import { sql } from 'slonik';
import { z } from 'zod';
import { type Contact, type ContactWithConsent, contactAddressSchema } from './contact-schemas.ts';
import { normaliseParticipant } from './participant.ts';

const contactRow = z.object({
  account_id: z.string(),
  contact_id: z.string(),
  display_name: z.string().nullable(),
  origin: z.enum(['explicit', 'implicit']),
  merged_into: z.string().nullable(),
  created_at: z.date(),
  addresses: z.array(contactAddressSchema).nullable(),
});

/** The account a read is limited to; null: every account. */
export type AccountScope = string | null;

const contactSelect = sql.fragment`SELECT c.account_id, c.contact_id, c.display_name, c.origin, c.merged_into,
    c.created_at,
    (SELECT json_agg(json_build_object('address', a.address, 'kind', a.kind) ORDER BY a.kind, a.address)
       FROM contact_addresses a WHERE a.account_id = c.account_id AND a.contact_id = c.contact_id) AS addresses
  FROM contacts c`;

/** `column` is the caller's account (always true for an unscoped read). */
const inScope = (column: string, account: AccountScope) =>
  account === null ? sql.fragment`TRUE` : sql.fragment`${sql.identifier(column.split('.'))} = ${account}`;

const toContact = (r: z.infer<typeof contactRow>): Contact => ({
  id: r.contact_id,
  displayName: r.display_name,
  origin: r.origin,
  mergedInto: r.merged_into,
  createdAt: r.created_at.toISOString(),
  addresses: r.addresses ?? [],
});

const consentRow = z.object({
  address: z.string(),
  sender: z.string(),
  channel: z.enum(['sms', 'email']),
  opted_out: z.boolean(),
  source: z.string(),
  keyword: z.string().nullable(),
  changed_at: z.date(),
});

const conversationOfRow = z.object({
  conversation_id: z.string(),
  participants: z.array(z.string()),
  account_id: z.string(),
  last_activity_at: z.date(),
});

export class ContactsReadModel {
  constructor(private readonly db: ReadPool) {}

  async contact(account: AccountScope, id: string): Promise<ContactWithConsent | null> {
    const row = await this.db.maybeOne(
      sql.type(contactRow)`${contactSelect} WHERE c.contact_id = ${id} AND ${inScope('c.account_id', account)}`,
    );
    if (!row) return null;
    const contact = toContact(row);
    // The contact's account's consent only (an unscoped read too: the contact belongs to one account).
    const consent = await this.db.any(
      sql.type(consentRow)`SELECT address, sender, channel, opted_out, source, keyword, changed_at FROM contact_consents
        WHERE account_id = ${row.account_id} AND address = ANY(${sql.array(
          contact.addresses.map((a) => a.address),
          'text',
        )}) ORDER BY address, channel, sender`,
    );
    return {
      ...contact,
      consent: consent.map((c) => ({
        address: c.address,
        sender: c.sender,
        channel: c.channel,
        status: c.opted_out ? 'opted_out' : 'opted_in',
        source: c.source,
        keyword: c.keyword,
        changedAt: c.changed_at.toISOString(),
      })),
    };
  }

  /** Live contacts (not merged away) whose name contains `q`, or who hold the address `q`. */
  async search(account: AccountScope, q: string | undefined, limit: number): Promise<Contact[]> {
    let matching = sql.fragment``;
    if (q !== undefined) {
      const pattern = `%${q.replace(/[\\%_]/g, (m) => `\\${m}`).toLowerCase()}%`;
      matching = sql.fragment`AND (lower(c.display_name) LIKE ${pattern}
        OR c.contact_id IN (SELECT contact_id FROM contact_addresses a
          WHERE a.account_id = c.account_id AND (address = ${normaliseParticipant(q)} OR address LIKE ${pattern})))`;
    }
    const rows = await this.db.any(
      sql.type(
        contactRow,
      )`${contactSelect} WHERE c.merged_into IS NULL AND ${inScope('c.account_id', account)} ${matching}
        ORDER BY c.display_name NULLS LAST, c.created_at, c.contact_id LIMIT ${limit}`,
    );
    return rows.map(toContact);
  }

  /**
   * Conversation ids with any of the contact's addresses in the contact's account, newest activity first.
   * The participant rows do not say whose conversation it is; the id does (`conversationBelongsTo`).
   */
  async conversationIds(contactId: string, limit: number): Promise<string[]> {
    const rows = await this.db.any(
      sql.type(conversationOfRow)`SELECT DISTINCT c.conversation_id, c.participants, a.account_id, c.last_activity_at
        FROM conversations c
        JOIN conversation_participants p ON p.conversation_id = c.conversation_id
        JOIN contact_addresses a ON a.address = p.address
        WHERE a.contact_id = ${contactId}
        ORDER BY c.last_activity_at DESC, c.conversation_id DESC`,
    );
    return rows
      .filter((r) => conversationBelongsTo(r.account_id, r.conversation_id, r.participants))
      .slice(0, limit)
      .map((r) => r.conversation_id);
  }
}
