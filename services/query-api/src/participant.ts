// Normalises a participant filter the way addresses were normalised when their events were written:
// the domain's rules first (E.164 phones, lower-cased and unwrapped emails). A filter the domain would not
// accept as an address (e.g. a fictional 555 number) is still tidied the same way, so it can match.
import { normaliseContactAddress, unwrapEmail } from '@hatch/domain';

export function normaliseParticipant(input: string): string {
  const value = input.trim();
  const domain = normaliseContactAddress(value);
  if (domain.ok) return domain.value;
  if (value.includes('@')) return unwrapEmail(value).toLowerCase();
  const digits = value.replace(/[\s().-]/g, '');
  if (/^\+\d{6,15}$/.test(digits)) return digits;
  if (/^00\d{6,15}$/.test(digits)) return `+${digits.slice(2)}`;
  // North American numbers without a country code (the domain's default region).
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  return value.toLowerCase();
}
