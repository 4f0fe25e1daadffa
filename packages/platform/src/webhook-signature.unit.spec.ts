import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature, webhookHeaders } from './webhook-signature.ts';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"messaging_provider_id":"m-1"}';
  const now = 1_764_000_000_000;

  it('accepts a fresh, correct signature', () => {
    const h = webhookHeaders(secret, body, now);
    expect(
      verifyWebhookSignature({
        secret,
        rawBody: body,
        timestamp: h['x-hatch-timestamp'],
        signature: h['x-hatch-signature'],
        nowMs: now,
      }),
    ).toEqual({ ok: true });
  });

  it('rejects a tampered body, a wrong secret, an old timestamp and missing headers', () => {
    const ts = Math.floor(now / 1000);
    const sig = signWebhook(secret, ts, body);
    const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret, rawBody: body, timestamp: String(ts), signature: sig, nowMs: now, ...over });
    expect(check({ rawBody: `${body} ` })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ secret: 'other' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ nowMs: now + 301_000 })).toEqual({ ok: false, reason: 'expired' });
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(check({ signature: 'v1=zz' })).toEqual({ ok: false, reason: 'malformed' });
  });
});
