// The providers' signature schemes against their documented examples and independent node:crypto.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signSendGridEvents,
  twilioSignature,
  verifySendGridSignature,
  verifyTwilioSignature,
} from './provider-signatures.ts';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

describe('X-Twilio-Signature', () => {
  // The worked example of Twilio's "Webhooks security" / "Validating requests" documentation
  // (twilio.com/docs/usage/webhooks/webhooks-security; also twilio-php's docs/usage/validation.rst):
  // auth token 12345, URL https://mycompany.com/myapp.php?foo=1&bar=2. The page has shown the example
  // with two caller numbers over time; both documented signatures are checked.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = (caller: string): Array<[string, string]> => [
    ['CallSid', 'CA1234567890ABCDE'],
    ['Caller', caller],
    ['Digits', '1234'],
    ['From', caller],
    ['To', '+18005551212'],
  ];

  it("matches Twilio's documented examples", () => {
    expect(twilioSignature('12345', url, params('+12349013030'))).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(twilioSignature('12345', url, params('+14158675310'))).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    const signature = 'GvWf1cFY/Q7PnoempGyD5oXAezc=';
    expect(verifyTwilioSignature({ authTokens: ['12345'], url, params: params('+14158675310'), signature })).toBe(true);
    expect(verifyTwilioSignature({ authTokens: ['1234'], url, params: params('+14158675310'), signature })).toBe(false);
    expect(
      verifyTwilioSignature({ authTokens: ['12345'], url, params: params('+14158675310'), signature: undefined }),
    ).toBe(false);
  });

  it('sorts parameters by name whatever their order, and accepts either of two rotating tokens', () => {
    const shuffled = [...params('+14158675310')].reverse();
    const independent = createHmac('sha1', 'new-token')
      .update(`${url}CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212`)
      .digest('base64');
    expect(twilioSignature('new-token', url, shuffled)).toBe(independent);
    expect(
      verifyTwilioSignature({ authTokens: ['old-token', 'new-token'], url, params: shuffled, signature: independent }),
    ).toBe(true);
  });
});

describe('SendGrid Event Webhook signature', () => {
  it('verifies ECDSA P-256/SHA-256 over timestamp + raw body with the base64 DER public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicB64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const privateB64 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const body =
      '[{"email":"example@test.com","event":"delivered","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}]';
    const timestamp = '1600112502';
    // Signed here with node:crypto directly, not with the code under test.
    const independent = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
    expect(verifySendGridSignature({ publicKey: publicB64, timestamp, signature: independent, rawBody: body })).toBe(
      true,
    );
    expect(
      verifySendGridSignature({ publicKey: publicB64, timestamp: '1600112503', signature: independent, rawBody: body }),
    ).toBe(false);
    expect(
      verifySendGridSignature({ publicKey: publicB64, timestamp, signature: independent, rawBody: `${body} ` }),
    ).toBe(false);
    expect(verifySendGridSignature({ publicKey: publicB64, timestamp, signature: 'bm90IGEgc2ln', rawBody: body })).toBe(
      false,
    );
    const ours = signSendGridEvents(privateB64, timestamp, body);
    expect(verifySendGridSignature({ publicKey: publicB64, timestamp, signature: ours, rawBody: body })).toBe(true);
  });
  it("verifies the test vector SendGrid's own client libraries check (sendgrid-nodejs/-python/-java eventwebhook specs)", () => {
    const vector = {
      publicKey:
        'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==',
      rawBody: '{"category":"example_payload","event":"test_event","message_id":"message_id"}',
      signature: 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
      timestamp: '1588788367',
    };
    expect(verifySendGridSignature(vector)).toBe(true);
    expect(verifySendGridSignature({ ...vector, timestamp: '1388788367' })).toBe(false);
    expect(verifySendGridSignature({ ...vector, rawBody: 'payload' })).toBe(false);
    expect(
      verifySendGridSignature({
        ...vector,
        publicKey:
          'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==',
      }),
    ).toBe(false);
  });
});

describe('our HMAC scheme under rotation', () => {
  it('verifies with either of two secrets and refuses a third', () => {
    const now = 1_730_469_605_000;
    const ts = Math.floor(now / 1000);
    const body = '{"a":1}';
    const byOld = signWebhook('old-secret', ts, body);
    const check = (secret: string | string[]) =>
      verifyWebhookSignature({ secret, rawBody: body, timestamp: String(ts), signature: byOld, nowMs: now });
    expect(check(['new-secret', 'old-secret'])).toEqual({ ok: true });
    expect(check('new-secret')).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(['new-secret', 'other'])).toEqual({ ok: false, reason: 'mismatch' });
  });
});
