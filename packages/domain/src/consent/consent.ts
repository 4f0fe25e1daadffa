// Consent: whether a contact accepts messages from one sender on one channel family. One stream per
// (family, sender, contact address), `consent-<uuid>`, holding ContactOptedOut / ContactOptedIn events:
// the send path and the dispatcher read it right before deciding (no projection lag), and the stream
// itself is the audit trail of every opt-out and opt-in. A sender belongs to one account, so the stream
// needs no account in its id; the events name the owning account (`consentAccountOf`) for the read side.
import { z } from 'zod';
import { accountOrLocal } from '../accounts/local-account.ts';
import { type Fold, foldEvents } from '../decider.ts';
import { deterministicUuid } from '../ids.ts';
import type { Channel } from '../messages/events.ts';

/** SMS and MMS share consent (a STOP covers both); email has its own (the unsubscribe link). */
export const consentFamilySchema = z.enum(['sms', 'email']);
export type ConsentFamily = z.infer<typeof consentFamilySchema>;

export const consentFamilyOf = (channel: Channel): ConsentFamily => (channel === 'email' ? 'email' : 'sms');

/** `address`: the contact's normalised address; `sender`: our normalised number or email address. */
export const consentStreamId = (family: ConsentFamily, sender: string, address: string) =>
  `consent-${deterministicUuid('hatch.consent', family, sender, address)}`;

const isoTimestamp = z.iso.datetime({ offset: true });

const consentChange = {
  /** The account owning `sender` when the change was recorded; absent on older events (the local account). */
  accountId: z.string().min(1).optional(),
  channel: consentFamilySchema,
  sender: z.string().min(1),
  address: z.string().min(1),
  /** `keyword`: an inbound STOP/START; `unsubscribe`: the email provider's unsubscribe callback. */
  source: z.enum(['keyword', 'unsubscribe']),
  keyword: z.string().nullable(),
  /** The inbound message that carried the keyword (null for provider callbacks). */
  messageId: z.uuid().nullable(),
  /** The provider's own id of the callback, when there was one. */
  providerEventId: z.string().nullable(),
  changedAt: isoTimestamp,
};

export const contactOptedOutSchema = z.object(consentChange);
export const contactOptedInSchema = z.object(consentChange);

/** The account a consent change belongs to (events without one: the local account). */
export const consentAccountOf = accountOrLocal;

export const consentEventSchemas = {
  ContactOptedOut: contactOptedOutSchema,
  ContactOptedIn: contactOptedInSchema,
} as const;

export type ConsentEventType = keyof typeof consentEventSchemas;
export type ConsentEvent = {
  [K in ConsentEventType]: { type: K; data: z.infer<(typeof consentEventSchemas)[K]> };
}[ConsentEventType];

export const isConsentEventType = (type: string): type is ConsentEventType => type in consentEventSchemas;

export function parseConsentEvent(type: string, data: unknown): ConsentEvent {
  if (!isConsentEventType(type)) throw new TypeError(`unknown consent event type ${type}`);
  return { type, data: consentEventSchemas[type].parse(data) } as ConsentEvent;
}

export interface ConsentState {
  optedOut: boolean;
  changedAt: string | null;
  source: 'keyword' | 'unsubscribe' | null;
  keyword: string | null;
}

export const noConsentHistory: ConsentState = { optedOut: false, changedAt: null, source: null, keyword: null };

/** The last change wins (log order). No stream: the contact never opted out. */
export const consentFold: Fold<ConsentState, ConsentEvent> = {
  initialState: () => noConsentHistory,
  evolve: (_, event) => ({
    optedOut: event.type === 'ContactOptedOut',
    changedAt: event.data.changedAt,
    source: event.data.source,
    keyword: event.data.keyword,
  }),
  parse: (type, data) => (isConsentEventType(type) ? parseConsentEvent(type, data) : null),
};

export const consentStateFrom = (events: readonly { type: string; data: unknown }[]): ConsentState =>
  foldEvents(consentFold, events);

/** A consent change's id: a re-delivered STOP (same inbound message) or callback appends nothing. */
export const consentEventId = (type: ConsentEventType, origin: string) =>
  deterministicUuid('hatch.consent-event', type, origin);

/** How long one (contact, our number, keyword) gets at most one automatic answer, by default. */
export const consentReplyWindowMs = 10 * 60 * 1000;

/**
 * The automatic answer to a keyword: its id derives from (our number, their number, keyword kind, the
 * window the keyword arrived in), so within one window the log holds at most one answer, on every
 * instance, and a re-delivered webhook is answered once. Windows are fixed (aligned to the epoch), so two
 * keywords either side of a boundary may both be answered: at most two per window length.
 */
export function consentReplyMessageId(
  sender: string,
  address: string,
  kind: string,
  receivedAt: string,
  windowMs = consentReplyWindowMs,
) {
  const windowStart = Math.floor(Date.parse(receivedAt) / windowMs) * windowMs;
  return deterministicUuid('hatch.consent-reply', sender, address, kind, String(windowMs), String(windowStart));
}

/** The client id consent replies are requested under (they are the platform's, not a customer's). */
export const consentReplyClientId = 'hatch-consent';
