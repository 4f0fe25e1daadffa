// Queries over the contacts tables (written by the `contacts` projection).
import type pg from 'pg';
import type { Contact, ContactWithConsent } from './contact-schemas.ts';
import { normaliseParticipant } from './participant.ts';
import type { Conversation } from './schemas.ts';

interface ContactRow {
  contact_id: string;
  display_name: string | null;
  origin: 'explicit' | 'implicit';
  merged_into: string | null;
  created_at: Date;
  addresses: { address: string; kind: 'phone' | 'email' }[] | null;
}

const contactSelect = `SELECT c.contact_id, c.display_name, c.origin, c.merged_into, c.created_at,
    (SELECT json_agg(json_build_object('address', a.address, 'kind', a.kind) ORDER BY a.kind, a.address)
       FROM contact_addresses a WHERE a.contact_id = c.contact_id) AS addresses
  FROM contacts c`;

const toContact = (r: ContactRow): Contact => ({
  id: r.contact_id,
  displayName: r.display_name,
  origin: r.origin,
  mergedInto: r.merged_into,
  createdAt: r.created_at.toISOString(),
  addresses: r.addresses ?? [],
});

export class ContactsReadModel {
  constructor(private readonly db: pg.Pool) {}

  async contact(id: string): Promise<ContactWithConsent | null> {
    const { rows } = await this.db.query<ContactRow>(`${contactSelect} WHERE c.contact_id = $1`, [id]);
    if (!rows[0]) return null;
    const contact = toContact(rows[0]);
    const consent = await this.db.query(
      `SELECT address, sender, channel, opted_out, source, keyword, changed_at FROM contact_consents
        WHERE address = ANY($1::text[]) ORDER BY address, channel, sender`,
      [contact.addresses.map((a) => a.address)],
    );
    return {
      ...contact,
      consent: consent.rows.map((c) => ({
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
  async search(q: string | undefined, limit: number): Promise<Contact[]> {
    const values: unknown[] = [limit];
    let where = 'c.merged_into IS NULL';
    if (q !== undefined) {
      values.push(`%${q.replace(/[\\%_]/g, (m) => `\\${m}`).toLowerCase()}%`, normaliseParticipant(q));
      where += ` AND (lower(c.display_name) LIKE $2
        OR c.contact_id IN (SELECT contact_id FROM contact_addresses WHERE address = $3 OR address LIKE $2))`;
    }
    const { rows } = await this.db.query<ContactRow>(
      `${contactSelect} WHERE ${where} ORDER BY c.display_name NULLS LAST, c.created_at, c.contact_id LIMIT $1`,
      values,
    );
    return rows.map(toContact);
  }

  /** Who holds each address now (for conversation listings). */
  async contactsOf(addresses: string[]): Promise<Map<string, { contactId: string; displayName: string | null }>> {
    if (addresses.length === 0) return new Map();
    const { rows } = await this.db.query<{ address: string; contact_id: string; display_name: string | null }>(
      `SELECT a.address, a.contact_id, c.display_name FROM contact_addresses a JOIN contacts c USING (contact_id)
        WHERE a.address = ANY($1::text[])`,
      [addresses],
    );
    return new Map(rows.map((r) => [r.address, { contactId: r.contact_id, displayName: r.display_name }]));
  }

  /** Conversation ids with any of the contact's addresses, newest activity first. */
  async conversationIds(contactId: string, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ conversation_id: string }>(
      `SELECT c.conversation_id FROM conversations c
        WHERE c.conversation_id IN (
          SELECT p.conversation_id FROM conversation_participants p
            JOIN contact_addresses a ON a.address = p.address WHERE a.contact_id = $1)
        ORDER BY c.last_activity_at DESC, c.conversation_id DESC LIMIT $2`,
      [contactId, limit],
    );
    return rows.map((r) => r.conversation_id);
  }
}

/** Adds the contact behind each participant (name shown in listings). */
export async function withContactNames<T extends Conversation>(contacts: ContactsReadModel, conversations: T[]) {
  const known = await contacts.contactsOf([...new Set(conversations.flatMap((c) => c.participants))]);
  return conversations.map((c) => ({
    ...c,
    contacts: c.participants.flatMap((address) => {
      const who = known.get(address);
      return who ? [{ address, contactId: who.contactId, displayName: who.displayName }] : [];
    }),
  }));
}
