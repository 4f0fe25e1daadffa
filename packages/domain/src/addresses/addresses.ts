// Addresses arrive in many spellings; the log stores one: E.164 phone numbers and lower-cased emails.
// Conversation keys and ids are built from these normalised forms, so A→B and B→A match.
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

export type Normalised = { ok: true; value: string } | { ok: false; message: string };

/** Numbers written without a country code are read as this country's (the product's home market). */
export const defaultPhoneCountry: CountryCode = 'US';

// Parsing with libphonenumber is the costliest step of a send, and senders reuse few numbers:
// remember recent answers (a pure function of its input; bounded, dropped wholesale when full).
const recentPhones = new Map<string, Normalised>();
const recentPhonesMax = 10_000;

export function normalisePhone(raw: string, defaultCountry: CountryCode = defaultPhoneCountry): Normalised {
  const memoKey = `${defaultCountry}:${raw}`;
  const known = recentPhones.get(memoKey);
  if (known) return known;
  const result = parsePhone(raw, defaultCountry);
  if (recentPhones.size >= recentPhonesMax) recentPhones.clear();
  recentPhones.set(memoKey, result);
  return result;
}

function parsePhone(raw: string, defaultCountry: CountryCode): Normalised {
  const text = raw.trim();
  if (!/^\+?[\d\s().-]{3,32}$/.test(text)) return { ok: false, message: 'must be a phone number in E.164 format' };
  const phone = parsePhoneNumberFromString(text, defaultCountry);
  if (!phone?.isValid()) return { ok: false, message: 'is not a valid phone number' };
  return { ok: true, value: phone.number };
}

// Markdown mail links as some providers render them: `[a@b.com](mailto:a@b.com)`.
const markdownMailto = /^\[([^\]]*)\]\(mailto:([^)]*)\)$/i;
// Deliberately plain: one @, no spaces, a dotted domain with a 2+ letter TLD.
const emailShape =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,}$/;

/** Strips markdown/mailto wrappers; does not validate. */
export function unwrapEmail(raw: string): string {
  let text = raw.trim();
  const link = markdownMailto.exec(text);
  if (link) text = (link[2] || link[1] || '').trim();
  if (/^mailto:/i.test(text)) text = text.slice('mailto:'.length);
  const angle = /<([^<>]+)>$/.exec(text); // `Jane Doe <jane@x.com>`
  if (angle) text = angle[1] as string;
  return text.trim();
}

export function normaliseEmail(raw: string): Normalised {
  const value = unwrapEmail(raw).toLowerCase();
  if (value.length > 254 || !emailShape.test(value)) return { ok: false, message: 'is not a valid email address' };
  return { ok: true, value };
}
