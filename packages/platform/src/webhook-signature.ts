// Provider webhooks are signed: HMAC-SHA256 over `${timestamp}.${rawBody}` with a shared secret,
// sent as `X-Hatch-Timestamp: <unix seconds>` and `X-Hatch-Signature: v1=<hex>`. The receiver checks
// the timestamp is inside a replay window and compares in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'x-hatch-signature';
export const timestampHeader = 'x-hatch-timestamp';

export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
  return `v1=${mac}`;
}

export function webhookHeaders(secret: string, rawBody: string | Buffer, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { [timestampHeader]: String(ts), [signatureHeader]: signWebhook(secret, ts, rawBody) };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

/** `secret` may be several (a rotation: the new one and the previous one both verify). */
export function verifyWebhookSignature(options: {
  secret: string | readonly string[];
  rawBody: string | Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  nowMs?: number;
}): SignatureCheck {
  const { secret, rawBody, timestamp, signature } = options;
  if (!timestamp || !signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^v1=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  const age = Math.abs((options.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (age > (options.toleranceSeconds ?? 300)) return { ok: false, reason: 'expired' };
  const given = Buffer.from(signature);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const matches = (one: string) => {
    const expected = Buffer.from(signWebhook(one, Number(timestamp), rawBody));
    return expected.length === given.length && timingSafeEqual(expected, given);
  };
  return secrets.some(matches) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
