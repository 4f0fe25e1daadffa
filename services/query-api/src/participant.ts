// Normalises a participant filter the way the domain normalises addresses in events: lower-cased emails
// (also when wrapped as `[a@b.com](mailto:a@b.com)`), phone numbers in E.164.
// TODO(domain): use the domain's address normaliser once @hatch/domain exports one.
export function normaliseParticipant(input: string): string {
  const value = input.trim();
  const wrapped = /^\[([^\]]+)\]\(mailto:[^)]+\)$/i.exec(value);
  if (wrapped) return (wrapped[1] as string).trim().toLowerCase();
  if (value.includes('@')) return value.replace(/^mailto:/i, '').toLowerCase();
  const digits = value.replace(/[\s().-]/g, '');
  if (/^\+\d{6,15}$/.test(digits)) return digits;
  if (/^00\d{6,15}$/.test(digits)) return `+${digits.slice(2)}`;
  // North American numbers without a country code (the provider side's default region).
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  return value.toLowerCase();
}
