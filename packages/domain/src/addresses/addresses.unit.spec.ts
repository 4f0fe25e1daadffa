import { describe, expect, it } from 'vitest';
import { normaliseEmail, normalisePhone, unwrapEmail } from './addresses.ts';

describe('phone numbers', () => {
  it('normalises to E.164', () => {
    expect(normalisePhone('+12016661234')).toEqual({ ok: true, value: '+12016661234' });
    expect(normalisePhone(' +1 (804) 555-1234 ')).toEqual({ ok: true, value: '+18045551234' });
    expect(normalisePhone('804-555-1234')).toEqual({ ok: true, value: '+18045551234' });
    expect(normalisePhone('+49 151 12345678')).toEqual({ ok: true, value: '+4915112345678' });
  });

  it('rejects what is not a valid number', () => {
    for (const bad of ['', '+123', 'hello', '+1555123456789', '+15551234567', 'a@b.com', '+1201666123x'])
      expect(normalisePhone(bad).ok, bad).toBe(false);
  });
});

describe('email addresses', () => {
  it('lower-cases and unwraps markdown mailto links', () => {
    expect(normaliseEmail('Contact@Gmail.com')).toEqual({ ok: true, value: 'contact@gmail.com' });
    expect(normaliseEmail('[User@UseHatchApp.com](mailto:User@UseHatchApp.com)')).toEqual({
      ok: true,
      value: 'user@usehatchapp.com',
    });
    expect(normaliseEmail('mailto:a@b.io')).toEqual({ ok: true, value: 'a@b.io' });
    expect(normaliseEmail('Jane <JANE@x.org>')).toEqual({ ok: true, value: 'jane@x.org' });
    expect(unwrapEmail(' [a@b.com](mailto:a@b.com) ')).toBe('a@b.com');
  });

  it('rejects malformed addresses', () => {
    for (const bad of [
      '',
      'plain',
      'a@b',
      '@b.com',
      'a b@c.com',
      'a@@b.com',
      '+12016661234',
      `${'x'.repeat(250)}@b.com`,
    ])
      expect(normaliseEmail(bad).ok, bad).toBe(false);
  });
});
