// Queries over the contacts tables (written by the `contacts` projection), each with its row schema
// (parsed on every row by the read pool).
import type { ReadPool } from '@hatch/projections';
import { sql } from 'slonik';
import { z } from 'zod';
import { type Contact, type ContactWithConsent, contactAddressSchema } from './contact-schemas.ts';
import { normaliseParticipant } from './participant.ts';
import type { Conversation } from './schemas.ts';

const contactRow = z.object({
  contact_id: z.string(),
  display_name: z.string().nullable(),
  origin: z.enum(['explicit', 'implicit']),
  merged_into: z.string().nullable(),
  created_at: z.date(),
  addresses: z.array(contactAddressSchema).nullable(),
});

const contactSelect = sql.fragment`SELECT c.contact_id, c.display_name, c.origin, c.merged_into, c.created_at,
    (SELECT json_agg(json_build_object('address', a.address, 'kind', a.kind) ORDER BY a.kind, a.address)
       FROM contact_addresses a WHERE a.contact_id = c.contact_id) AS addresses
  FROM contacts c`;

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

const addressHolderRow = z.object({ address: z.string(), contact_id: z.string(), display_name: z.string().nullable() });
const conversationIdRow = z.object({ conversation_id: z.string() });

export class ContactsReadModel {
  constructor(private readonly db: ReadPool) {}

  async contact(id: string): Promise<ContactWithConsent | null> {
    const row = await this.db.maybeOne(sql.type(contactRow)`${contactSelect} WHERE c.contact_id = ${id}`);
    if (!row) return null;
    const contact = toContact(row);
    const consent = await this.db.any(
      sql.type(consentRow)`SELECT address, sender, channel, opted_out, source, keyword, changed_at FROM contact_consents
        WHERE address = ANY(${sql.array(
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
  async search(q: string | undefined, limit: number): Promise<Contact[]> {
    let matching = sql.fragment``;
    if (q !== undefined) {
      const pattern = `%${q.replace(/[\\%_]/g, (m) => `\\${m}`).toLowerCase()}%`;
      matching = sql.fragment`AND (lower(c.display_name) LIKE ${pattern}
        OR c.contact_id IN (SELECT contact_id FROM contact_addresses
          WHERE address = ${normaliseParticipant(q)} OR address LIKE ${pattern}))`;
    }
    const rows = await this.db.any(
      sql.type(contactRow)`${contactSelect} WHERE c.merged_into IS NULL ${matching}
        ORDER BY c.display_name NULLS LAST, c.created_at, c.contact_id LIMIT ${limit}`,
    );
    return rows.map(toContact);
  }

  /** Who holds each address now (for conversation listings). */
  async contactsOf(addresses: string[]): Promise<Map<string, { contactId: string; displayName: string | null }>> {
    if (addresses.length === 0) return new Map();
    const rows = await this.db.any(
      sql.type(addressHolderRow)`SELECT a.address, a.contact_id, c.display_name
        FROM contact_addresses a JOIN contacts c USING (contact_id)
        WHERE a.address = ANY(${sql.array(addresses, 'text')})`,
    );
    return new Map(rows.map((r) => [r.address, { contactId: r.contact_id, displayName: r.display_name }]));
  }

  /** Conversation ids with any of the contact's addresses, newest activity first. */
  async conversationIds(contactId: string, limit: number): Promise<string[]> {
    const rows = await this.db.any(
      sql.type(conversationIdRow)`SELECT c.conversation_id FROM conversations c
        WHERE c.conversation_id IN (
          SELECT p.conversation_id FROM conversation_participants p
            JOIN contact_addresses a ON a.address = p.address WHERE a.contact_id = ${contactId})
        ORDER BY c.last_activity_at DESC, c.conversation_id DESC LIMIT ${limit}`,
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
