// Phone numbers and email addresses never reach the logs in full.
const emailPattern = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// 7+ digits, optionally with a leading + and separators: long enough to be a phone number.
const phonePattern = /\+?\d[\d\s().-]{5,}\d/g;

/** `+12016661234` → `+1201***34`; `jane.doe@gmail.com` → `j***@gmail.com`. */
export function maskAddress(address: string): string {
  if (address.includes('@')) return address.replace(emailPattern, '$1***@$2');
  const digits = address.replace(/[^\d+]/g, '');
  if (digits.length < 6) return '***';
  return `${digits.slice(0, 5)}***${digits.slice(-2)}`;
}

export function maskPii(text: string): string {
  return text.replace(emailPattern, '$1***@$2').replace(phonePattern, (m) => maskAddress(m));
}

/** Deep copy of a log object with every string masked. */
export function maskValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPii(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: maskPii(value.message), stack: value.stack };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, depth + 1);
  return out;
}
