// The event contract of accounts (customers). Streams: `account-<accountId>` holds the account's own facts
// (its name, the senders it owns, its API keys — key hashes only, never a key); `sender-<normalised sender>`
// holds who owns one number, address or `@domain`, appended at an expected version so two accounts can never
// own the same sender even when two operators add it at the same instant. Change the shapes only by adding a
// new schema version.
import { z } from 'zod';
import { deterministicUuid } from '../ids.ts';

const isoTimestamp = z.iso.datetime({ offset: true });

/** phone: an E.164 number (sms/mms); email: one address; email_domain: `@example.com`, every address there. */
export const senderKindSchema = z.enum(['phone', 'email', 'email_domain']);
export type SenderKind = z.infer<typeof senderKindSchema>;

/** A sender as stored: already normalised (`+12016661234`, `ops@example.com`, `@example.com`). */
const sender = z.string().min(2);
const accountName = z.string().trim().min(1).max(100);
/** SHA-256 of the whole key, lower-case hex. */
export const apiKeyHashSchema = z.string().regex(/^[0-9a-f]{64}$/);
/** The visible start of a key (`hk_live_AbC123`), so an operator can tell keys apart without the secret. */
export const apiKeyPrefixSchema = z.string().regex(/^hk_live_[0-9A-Za-z]{1,12}$/);

export const accountEventSchemas = {
  AccountCreated: z.object({ accountId: z.uuid(), name: accountName, createdAt: isoTimestamp }),
  SenderAdded: z.object({ accountId: z.uuid(), sender, kind: senderKindSchema, addedAt: isoTimestamp }),
  SenderRemoved: z.object({ accountId: z.uuid(), sender, kind: senderKindSchema, removedAt: isoTimestamp }),
  ApiKeyIssued: z.object({
    accountId: z.uuid(),
    keyId: z.uuid(),
    name: accountName,
    keyHash: apiKeyHashSchema,
    prefix: apiKeyPrefixSchema,
    issuedAt: isoTimestamp,
  }),
  ApiKeyRevoked: z.object({ accountId: z.uuid(), keyId: z.uuid(), revokedAt: isoTimestamp }),
} as const;

/** On a sender's claim stream: who owns it from now on, and when it was let go. */
export const senderClaimEventSchemas = {
  SenderClaimed: z.object({ sender, accountId: z.uuid(), claimedAt: isoTimestamp }),
  SenderReleased: z.object({ sender, accountId: z.uuid(), releasedAt: isoTimestamp }),
} as const;

export type AccountEventType = keyof typeof accountEventSchemas;
export type AccountEvent = {
  [K in AccountEventType]: { type: K; data: z.infer<(typeof accountEventSchemas)[K]> };
}[AccountEventType];
export type AccountEventOf<K extends AccountEventType> = Extract<AccountEvent, { type: K }>;

export type SenderClaimEventType = keyof typeof senderClaimEventSchemas;
export type SenderClaimEvent = {
  [K in SenderClaimEventType]: { type: K; data: z.infer<(typeof senderClaimEventSchemas)[K]> };
}[SenderClaimEventType];

/** Version of the shapes above, for the events' metadata. */
export const accountEventSchemaVersion = 1;

export const isAccountEventType = (type: string): type is AccountEventType => type in accountEventSchemas;
export const isSenderClaimEventType = (type: string): type is SenderClaimEventType => type in senderClaimEventSchemas;

export function parseAccountEvent(type: string, data: unknown): AccountEvent {
  if (!isAccountEventType(type)) throw new TypeError(`unknown account event type ${type}`);
  return { type, data: accountEventSchemas[type].parse(data) } as AccountEvent;
}

export function parseSenderClaimEvent(type: string, data: unknown): SenderClaimEvent {
  if (!isSenderClaimEventType(type)) throw new TypeError(`unknown sender claim event type ${type}`);
  return { type, data: senderClaimEventSchemas[type].parse(data) } as SenderClaimEvent;
}

export const accountStreamId = (accountId: string) => `account-${accountId}`;
/** The sender must be normalised (`normaliseSender`): one spelling, one stream. */
export const senderStreamId = (normalisedSender: string) => `sender-${normalisedSender}`;

/**
 * The id of the event appended as version `version` of a stream: a retried append of the same decision
 * (same stream, same version) is a no-op in the log, while a later change of the same fact (a sender
 * removed and added again) gets a new id.
 */
export const accountEventId = (streamId: string, version: number, type: string) =>
  deterministicUuid('hatch.account-event', streamId, String(version), type);
