// A contact's state folded from its stream, and who holds an address folded from the address's stream:
// what the command side decides contact commands on.
import { normaliseEmail, normalisePhone } from '../addresses/addresses.ts';
import type { Fold } from '../decider.ts';
import type { FieldError } from '../messages/channel-rules.ts';
import { type ContactEvent, contactAccountOf, isContactEventType, parseContactEvent } from './events.ts';

export interface ContactState {
  /** The account the contact belongs to: no other account's command sees it. */
  accountId: string;
  contactId: string;
  displayName: string | null;
  addresses: string[];
  mergedInto: string | null;
}

export function evolveContact(state: ContactState | null, event: ContactEvent): ContactState | null {
  switch (event.type) {
    case 'ContactCreated':
      return {
        accountId: contactAccountOf(event.data),
        contactId: event.data.contactId,
        displayName: event.data.displayName,
        addresses: [...event.data.addresses],
        mergedInto: null,
      };
    case 'ContactRenamed':
      return state && { ...state, displayName: event.data.displayName };
    case 'ContactAddressAdded':
      return state && !state.addresses.includes(event.data.address)
        ? { ...state, addresses: [...state.addresses, event.data.address] }
        : state;
    case 'ContactAddressRemoved':
      return state && { ...state, addresses: state.addresses.filter((a) => a !== event.data.address) };
    case 'ContactMerged':
      return state && { ...state, addresses: [], mergedInto: event.data.into };
    default:
      return state;
  }
}

const parseContact = (type: string, data: unknown) => (isContactEventType(type) ? parseContactEvent(type, data) : null);

/** A contact's stream `contact-<id>`; null until it was created. */
export const contactFold: Fold<ContactState | null, ContactEvent> = {
  initialState: () => null,
  evolve: evolveContact,
  parse: parseContact,
};

/** The last claim on an address's stream: who holds it (null: nobody, i.e. its implicit contact) since when. */
export interface AddressClaim {
  contactId: string | null;
  claimedAt: string | null;
}

export const unclaimed: AddressClaim = { contactId: null, claimedAt: null };

export const addressHolderFold: Fold<AddressClaim, ContactEvent> = {
  initialState: () => unclaimed,
  evolve: (claim, event) =>
    event.type === 'ContactAddressClaimed'
      ? { contactId: event.data.contactId, claimedAt: event.data.claimedAt }
      : claim,
  parse: parseContact,
};

/** A phone number (E.164) or an email address (lower-cased), whichever it looks like. */
export function normaliseContactAddress(raw: string) {
  return raw.includes('@') ? normaliseEmail(raw) : normalisePhone(raw);
}

/** Normalised and de-duplicated; each invalid one named (`address` when there is one, else `addresses.<i>`). */
export function normaliseContactAddresses(
  raw: readonly string[],
): { ok: true; addresses: string[] } | { ok: false; reason: 'invalid'; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const values = raw.map((a, i) => {
    const result = normaliseContactAddress(a);
    if (!result.ok) errors.push({ field: raw.length === 1 ? 'address' : `addresses.${i}`, message: result.message });
    return result.ok ? result.value : a;
  });
  return errors.length > 0 ? { ok: false, reason: 'invalid', errors } : { ok: true, addresses: [...new Set(values)] };
}
