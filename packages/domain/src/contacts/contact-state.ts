// A contact's state folded from its stream, and who holds an address folded from the address's stream:
// what the command side decides contact commands on.
import { normaliseEmail, normalisePhone } from '../addresses/addresses.ts';
import { type ContactEvent, isContactEventType, parseContactEvent } from './events.ts';

export interface ContactState {
  contactId: string;
  displayName: string | null;
  addresses: string[];
  mergedInto: string | null;
}

export function contactStateFrom(
  contactId: string,
  events: readonly { type: string; data: unknown }[],
): ContactState | null {
  let state = null as ContactState | null;
  for (const e of events) {
    if (!isContactEventType(e.type)) continue;
    const event: ContactEvent = parseContactEvent(e.type, e.data);
    switch (event.type) {
      case 'ContactCreated':
        state = {
          contactId,
          displayName: event.data.displayName,
          addresses: [...event.data.addresses],
          mergedInto: null,
        };
        break;
      case 'ContactRenamed':
        if (state) state = { ...state, displayName: event.data.displayName };
        break;
      case 'ContactAddressAdded':
        if (state && !state.addresses.includes(event.data.address))
          state = { ...state, addresses: [...state.addresses, event.data.address] };
        break;
      case 'ContactAddressRemoved':
        if (state) state = { ...state, addresses: state.addresses.filter((a) => a !== event.data.address) };
        break;
      case 'ContactMerged':
        if (state) state = { ...state, addresses: [], mergedInto: event.data.into };
        break;
      default:
        break;
    }
  }
  return state;
}

/** Who holds an address per its claim stream (null: nobody, i.e. its implicit contact). */
export function addressHolderFrom(events: readonly { type: string; data: unknown }[]): string | null {
  let holder: string | null = null;
  for (const e of events) {
    if (e.type !== 'ContactAddressClaimed') continue;
    holder = parseContactEvent(e.type, e.data).data.contactId as string | null;
  }
  return holder;
}

/** A phone number (E.164) or an email address (lower-cased), whichever it looks like. */
export function normaliseContactAddress(raw: string) {
  return raw.includes('@') ? normaliseEmail(raw) : normalisePhone(raw);
}
