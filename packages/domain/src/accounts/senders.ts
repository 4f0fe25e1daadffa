// Senders an account owns: E.164 numbers for SMS/MMS, email addresses, or a whole email domain written
// `@example.com`. They are normalised with the same rules as message addresses, so the sender a customer
// registers and the `from` of its sends compare as plain strings.
import { normaliseEmail, normalisePhone } from '../addresses/addresses.ts';
import type { Channel } from '../messages/events.ts';
import type { SenderKind } from './events.ts';

export type NormalisedSender = { ok: true; value: string; kind: SenderKind } | { ok: false; message: string };

export function normaliseSender(raw: string): NormalisedSender {
  const text = raw.trim();
  if (text.startsWith('@')) {
    // A domain is valid when some address at it would be.
    const probe = normaliseEmail(`postmaster${text}`);
    if (!probe.ok) return { ok: false, message: 'is not a valid email domain (write it as @example.com)' };
    return { ok: true, value: probe.value.slice('postmaster'.length), kind: 'email_domain' };
  }
  if (text.includes('@')) {
    const email = normaliseEmail(text);
    return email.ok ? { ok: true, value: email.value, kind: 'email' } : email;
  }
  const phone = normalisePhone(text);
  return phone.ok ? { ok: true, value: phone.value, kind: 'phone' } : phone;
}

/**
 * The senders that would cover `address` on `channel`, most specific first: the number itself; for
 * email the address, then its `@domain`. Inbound routing by `to` looks these up in this order.
 * Empty when the address is not a valid one for the channel.
 */
export function senderCandidates(channel: Channel, address: string): string[] {
  if (channel === 'email') {
    const email = normaliseEmail(address);
    if (!email.ok) return [];
    return [email.value, email.value.slice(email.value.lastIndexOf('@'))];
  }
  const phone = normalisePhone(address);
  return phone.ok ? [phone.value] : [];
}

/** What an account owns, as `senderOwnedBy` needs it (the account state's `senders` fits). */
export interface OwnedSenders {
  senders: Readonly<Record<string, SenderKind>>;
}

/** True when the account owns `fromAddress` for `channel` (an email address also through its `@domain`). */
export function senderOwnedBy(state: OwnedSenders | null, channel: Channel, fromAddress: string): boolean {
  if (!state) return false;
  return senderCandidates(channel, fromAddress).some((candidate) => {
    const kind = state.senders[candidate];
    if (kind === undefined) return false;
    return channel === 'email' ? kind === 'email' || kind === 'email_domain' : kind === 'phone';
  });
}
