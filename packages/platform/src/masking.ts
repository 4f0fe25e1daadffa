// Phone numbers and email addresses never reach the logs in full; everything else an operator needs
// (UUIDs, log positions, IPs and ports, URLs, versions, dates) stays readable.
// Every pattern here is linear-time: no nested or overlapping quantifiers, so a hostile 50 kB token
// costs one pass. libphonenumber's own text matcher (findNumbers) was measured at ≈300 ms on such a
// token and skips fictional numbers (+1555…), so it only confirms the rare national-format candidates.
import { isValidPhoneNumber } from 'libphonenumber-js';

// A run of digit groups with single separators, optionally after `+` (or its URL encoding `%2B`).
// Groups either start with a separator or are parenthesised, so there is one way to match a run.
const phoneRun = /(?:\+|%2[Bb])?(?:\(\d+\)\d*|\d+)(?:[ .-]?\(\d+\)\d*|[ .-]\d+)*/g;
// Local part at a boundary (the lookbehind stops the scan restarting inside a run), `@` or `%40`, labels.
const emailRun = /(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)/g;
// One JSON string literal (the unrolled form: linear).
const jsonString = /"[^"\\]*(?:\\.[^"\\]*)*"/g;

const intlPrefix = /^(?:\+|%2[Bb])/;
const wordChar = /[\p{L}\p{N}_]/u;
const joiner = /[-._/]/;
const isoDate = /^(?:19|20)\d\d[-./]\d\d[-./]\d\d(?!\d)|^\d\d[-./]\d\d[-./](?:19|20)\d\d$/;
// Numbers written without a country code are read as this country's (the product's home market).
const homeCountry = 'US';

/** `+12016661234` → `+1201***34`; `jane.doe@gmail.com` → `j***@gmail.com`; a value of a known field. */
export function maskAddress(address: string): string {
  // No address is this long: mask it as (capped) free text.
  if (address.length > maxMaskedLength) return maskPii(address);
  if (address.includes('@')) {
    const masked = maskEmails(address);
    return masked === address ? address.replace(/^([^@\s])[^@\s]*@/, '$1***@') : masked;
  }
  const text = address.trim();
  if (/^(?:\+|%2[Bb])?[\d\s().-]+$/.test(text) && !/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return maskDigits(text);
  return maskPii(address);
}

/**
 * Longest text masked (and logged) whole. Linear is not enough for a hostile 1 MB value: hundreds of
 * thousands of address-shaped matches still cost seconds, and no log reader wants them. Beyond this a string
 * is cut (and says so) before it is masked.
 */
export const maxMaskedLength = 16_384;

const elided = (length: number) => `…[${length - maxMaskedLength} more characters]`;

/** Masks every phone number and email address found inside free text (messages, errors, URLs). */
export function maskPii(text: string): string {
  if (text.length > maxMaskedLength)
    return maskPhones(maskEmails(text.slice(0, maxMaskedLength))) + elided(text.length);
  return mayHoldAddress(text) ? maskPhones(maskEmails(text)) : text;
}

/**
 * The cheap test that lets most strings of a log line (ids, routes, names) skip the scans: an email needs `@`
 * (or `%40`), and every phone shape masked below has at least 7 digits (maskDigits, isNationalPhone).
 */
function mayHoldAddress(text: string): boolean {
  if (text.includes('@') || text.includes('%')) return true;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++digits >= 7) return true;
  }
  return false;
}

/** A JSON literal's content cut at the cap without leaving half an escape (`\`, `\u12`) at the end. */
function cutLiteral(content: string): string {
  let cut = content.slice(0, maxMaskedLength);
  const halfEscape = /\\u[0-9A-Fa-f]{0,3}$|\\$/.exec(cut);
  if (halfEscape) {
    let slashes = 0;
    for (let i = halfEscape.index; i >= 0 && cut[i] === '\\'; i--) slashes++;
    if (slashes % 2 === 1) cut = cut.slice(0, halfEscape.index);
  }
  return cut;
}

/** Masks inside the string literals of one serialised JSON log line, never its numbers or structure. */
export function maskJsonLine(line: string): string {
  return line.replace(jsonString, (literal) =>
    literal.length > maxMaskedLength + 2
      ? `"${maskPii(cutLiteral(literal.slice(1, -1)))}${elided(literal.length - 2)}"`
      : maskPii(literal),
  );
}

const knownFields = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'replyto',
  'phone',
  'phonenumber',
  'mobile',
  'msisdn',
  'email',
  'emailaddress',
  'address',
  'addresses',
  'participant',
  'participants',
  'sender',
  'recipient',
  'recipients',
]);

function isKnownField(key: string): boolean {
  return knownFields.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/**
 * Copy of a log object whose address fields (from, to, cc, email, …) are masked whole, whatever
 * their spelling. Only plain objects and arrays are walked: requests, errors and other instances are
 * left to pino's serialisers, and the serialised line is masked afterwards (maskJsonLine).
 */
export function maskKnownFields(value: Record<string, unknown>): Record<string, unknown> {
  return walk(value, false, 0) as Record<string, unknown>;
}

function walk(value: unknown, known: boolean, depth: number): unknown {
  if (known && (typeof value === 'string' || typeof value === 'number')) return maskAddress(String(value));
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, known, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = walk(v, isKnownField(k), depth + 1);
  return out;
}

function maskEmails(text: string): string {
  if (!text.includes('@') && !/%40/i.test(text)) return text;
  return text.replace(emailRun, (match, first: string, at: string, domain: string) => {
    // A real domain ends in an alphabetic top-level label: `pino@10.4.0` or `user@host` are not emails.
    const labels = domain.split('.');
    let end = labels.length - 1;
    while (end > 0 && !/^[A-Za-z]{2,}$/.test(labels[end] as string)) end -= 1;
    if (end === 0) return match;
    const kept = labels.slice(0, end + 1).join('.');
    return `${first}***${at}${kept}${domain.slice(kept.length)}`;
  });
}

function maskPhones(text: string): string {
  return text.replace(phoneRun, (run: string, offset: number) => {
    if (intlPrefix.test(run)) {
      // `sender-+1201…` is a phone; `k+1234567Q` inside a base64 signature is not.
      const inWord = wordChar.test(text[offset - 1] ?? '') || wordChar.test(text[offset + run.length] ?? '');
      return !inWord && run.replace(intlPrefix, '').replace(/\D/g, '').length >= 7 ? maskDigits(run) : run;
    }
    if (glued(text, offset - 1, -1) || glued(text, offset + run.length, 1)) return run;
    if (isNationalPhone(run)) return maskDigits(run);
    // `3 calls to 201-555-1234`: a phone number can share a run with the numbers written before it.
    if (run.length > 64 || !run.includes(' ')) return run;
    return run
      .split(' ')
      .map((piece) => (isNationalPhone(piece) ? maskDigits(piece) : piece))
      .join(' ');
  });
}

/** Is the character at `i` part of the same token (a letter, digit, or `-`, `.`, `_`, `/` joining one)? */
function glued(text: string, i: number, step: 1 | -1): boolean {
  const c = text[i];
  if (c === undefined) return false;
  // `\n201…` inside a JSON literal: the escape's letter is not part of the number.
  if (step === -1 && text[i - 1] === '\\') return false;
  if (wordChar.test(c)) return true;
  const next = text[i + step];
  return joiner.test(c) && next !== undefined && wordChar.test(next);
}

/** US formats ((201) 555-1234, 201.555.1234, 1-201-555-1234, 2015551234) and trunk-0 ones (020 7946 0958). */
function isNationalPhone(run: string): boolean {
  if (isoDate.test(run)) return false;
  const groups = run.split(/[ .()-]+/).filter((g) => g.length > 0);
  const digits = groups.join('');
  if (/^0[1-9]/.test(digits)) return digits.length >= 9 && digits.length <= 12 && groups.every((g) => g.length >= 2);
  const shape = groups.map((g) => g.length).join(',');
  const usShape = ['10', '11', '3,3,4', '1,3,3,4', '3,7', '1,10'].includes(shape);
  return usShape && (digits.length === 10 || digits[0] === '1') && isValidPhoneNumber(digits, homeCountry);
}

/** Keeps a `+`, the country and area digits and the last two: enough to tell numbers apart in a log. */
function maskDigits(run: string): string {
  const plus = intlPrefix.exec(run)?.[0] ?? '';
  const digits = run.slice(plus.length).replace(/\D/g, '');
  if (digits.length < 7) return `${plus}***`;
  const head = plus === '' ? 3 : 4;
  return `${plus}${digits.slice(0, digits.length >= 9 ? head : 0)}***${digits.slice(-2)}`;
}
