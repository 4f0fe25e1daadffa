// The providers' own webhook signatures, shared by our verifiers and the mocks that sign.
// Twilio: base64 HMAC-SHA1, keyed by the auth token, over the full URL followed by every POST parameter
// name and value, sorted by name (twilio.com/docs/usage/webhooks/webhooks-security).
// SendGrid Event Webhook: ECDSA (P-256, SHA-256) over `<timestamp><raw body>`, base64 DER signature,
// the public key as base64 DER SubjectPublicKeyInfo, as the SendGrid console shows it.
import { createHash, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify } from 'node:crypto';

export const twilioSignatureHeader = 'x-twilio-signature';
export const sendGridSignatureHeader = 'x-twilio-email-event-webhook-signature';
export const sendGridTimestampHeader = 'x-twilio-email-event-webhook-timestamp';

/** Parameters as `[name, value]` pairs (a name may repeat, e.g. `MediaUrl`). */
export function twilioSignature(authToken: string, url: string, params: ReadonlyArray<[string, string]>): string {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1));
  const mac = createHmac('sha1', authToken).update(url);
  for (const [name, value] of sorted) mac.update(name).update(value);
  return mac.digest('base64');
}

/** Constant time, lengths included (both sides are hashed first): for signatures and path/basic-auth secrets. */
export const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** True when `signature` is Twilio's for this request under any of `authTokens` (a rotation holds two). */
export function verifyTwilioSignature(options: {
  authTokens: readonly string[];
  url: string;
  params: ReadonlyArray<[string, string]>;
  signature: string | undefined;
}): boolean {
  const { signature } = options;
  if (!signature) return false;
  return options.authTokens.some((token) => sameSecret(twilioSignature(token, options.url, options.params), signature));
}

/** Signs an Event Webhook post (the mock); `privateKey` is PEM or base64 DER PKCS#8. */
export function signSendGridEvents(privateKey: string, timestamp: string, rawBody: string | Buffer): string {
  const key = privateKey.includes('BEGIN')
    ? createPrivateKey(privateKey)
    : createPrivateKey({ key: Buffer.from(privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  return sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(rawBody)]), key).toString('base64');
}

/** True when the Event Webhook signature verifies under the console's public key (base64 DER or PEM). */
export function verifySendGridSignature(options: {
  publicKey: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string | Buffer;
}): boolean {
  const { timestamp, signature } = options;
  if (!timestamp || !signature) return false;
  try {
    const key = options.publicKey.includes('BEGIN')
      ? createPublicKey(options.publicKey)
      : createPublicKey({ key: Buffer.from(options.publicKey, 'base64'), format: 'der', type: 'spki' });
    const payload = Buffer.concat([Buffer.from(timestamp), Buffer.from(options.rawBody)]);
    return verify('sha256', payload, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
