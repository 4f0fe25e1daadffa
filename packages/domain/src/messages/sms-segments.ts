// How many SMS segments a body needs. GSM-7 (the GSM 03.38 default alphabet) fits 160 septets in one
// segment and 153 per segment once concatenated (the UDH takes 7); anything outside it is sent as UCS-2:
// 70 UTF-16 units, 67 per concatenated segment. Segments never split an escape sequence or a surrogate pair.

export type SmsEncoding = 'GSM-7' | 'UCS-2';

const gsmBasic = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Characters of the extension table: sent as ESC + char, two septets.
const gsmExtension = new Set('\f^{}\\[~]|€');

export function smsEncoding(body: string): SmsEncoding {
  for (const ch of body) if (!gsmBasic.has(ch) && !gsmExtension.has(ch)) return 'UCS-2';
  return 'GSM-7';
}

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  segments: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the body takes. */
  units: number;
}

export function countSmsSegments(body: string): SmsSegmentCount {
  const encoding = smsEncoding(body);
  // Each character's size in units; a character is never split across segments.
  const sizes: number[] = [];
  for (const ch of body) sizes.push(encoding === 'GSM-7' ? (gsmExtension.has(ch) ? 2 : 1) : ch.length);
  const units = sizes.reduce((a, b) => a + b, 0);
  const single = encoding === 'GSM-7' ? 160 : 70;
  const multi = encoding === 'GSM-7' ? 153 : 67;
  if (units === 0) return { encoding, segments: 0, units };
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > multi) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return { encoding, segments, units };
}
