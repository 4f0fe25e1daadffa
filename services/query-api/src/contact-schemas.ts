// The contacts part of the query API's contract.
import { z } from 'zod';
import { conversationSchema } from './schemas.ts';

const instant = z.string().describe('ISO 8601 timestamp');

export const contactAddressSchema = z.object({ address: z.string(), kind: z.enum(['phone', 'email']) });

export const consentSchema = z.object({
  address: z.string().describe("The contact's address"),
  sender: z.string().describe('Our number or email address'),
  channel: z.enum(['sms', 'email']).describe('sms covers SMS and MMS'),
  status: z.enum(['opted_out', 'opted_in']),
  source: z.string().describe('keyword (STOP/START from the contact) or unsubscribe (email provider callback)'),
  keyword: z.string().nullable(),
  changedAt: instant,
});

export const contactSchema = z.object({
  id: z.uuid(),
  displayName: z.string().nullable(),
  origin: z.enum(['explicit', 'implicit']).describe('implicit: created on first contact from a message'),
  mergedInto: z.uuid().nullable().describe('Set when this contact was merged into another one'),
  createdAt: instant,
  addresses: z.array(contactAddressSchema),
});

export const contactWithConsentSchema = contactSchema.extend({
  consent: z.array(consentSchema).describe('Opt-out state per channel and sender (only where it ever changed)'),
});

export const contactListSchema = z.object({ items: z.array(contactSchema) });

export const contactSearchQuery = z.object({
  q: z.string().min(1).max(320).optional().describe('Part of a name, or a phone number, or an email address'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const contactConversationsSchema = z.object({ items: z.array(conversationSchema) });

export type Contact = z.infer<typeof contactSchema>;
export type ContactWithConsent = z.infer<typeof contactWithConsentSchema>;
