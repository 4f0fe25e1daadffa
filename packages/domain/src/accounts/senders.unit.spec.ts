import { describe, expect, it } from 'vitest';
import { normaliseSender, senderCandidates, senderOwnedBy } from './senders.ts';

describe('normaliseSender', () => {
  it('reads phones as E.164, emails lower-cased, @domain as a whole email domain', () => {
    expect(normaliseSender(' +1 201-666-1234 ')).toEqual({ ok: true, value: '+12016661234', kind: 'phone' });
    expect(normaliseSender('Jane <Jane@Example.com>')).toEqual({ ok: true, value: 'jane@example.com', kind: 'email' });
    expect(normaliseSender('@Mail.Example.com')).toEqual({
      ok: true,
      value: '@mail.example.com',
      kind: 'email_domain',
    });
  });

  it('refuses what is none of them', () => {
    for (const raw of ['', '+1', 'hello', '@', '@localhost', 'a@b@c.com']) expect(normaliseSender(raw).ok).toBe(false);
  });
});

describe('senderOwnedBy', () => {
  const state = {
    senders: { '+12016661234': 'phone', 'ops@acme.com': 'email', '@mail.acme.com': 'email_domain' } as const,
  };

  it('matches numbers on sms and mms, in any spelling', () => {
    expect(senderOwnedBy(state, 'sms', '(201) 666-1234')).toBe(true);
    expect(senderOwnedBy(state, 'mms', '+12016661234')).toBe(true);
    expect(senderOwnedBy(state, 'sms', '+12016661235')).toBe(false);
  });

  it('matches an owned address or any address of an owned domain, on email only', () => {
    expect(senderOwnedBy(state, 'email', 'OPS@acme.com')).toBe(true);
    expect(senderOwnedBy(state, 'email', 'billing@mail.acme.com')).toBe(true);
    expect(senderOwnedBy(state, 'email', 'billing@acme.com')).toBe(false);
    // A subdomain is not its parent domain, and a phone sender does not cover email.
    expect(senderOwnedBy(state, 'email', 'x@eu.mail.acme.com')).toBe(false);
    expect(senderOwnedBy({ senders: { '@acme.com': 'email_domain' } }, 'sms', '+12016661234')).toBe(false);
    expect(senderOwnedBy(null, 'sms', '+12016661234')).toBe(false);
    expect(senderOwnedBy(state, 'email', 'not an address')).toBe(false);
  });

  it('lists the senders to look up for inbound routing, most specific first', () => {
    expect(senderCandidates('email', 'Billing@Mail.Acme.com')).toEqual(['billing@mail.acme.com', '@mail.acme.com']);
    expect(senderCandidates('sms', '201 666 1234')).toEqual(['+12016661234']);
    expect(senderCandidates('sms', 'nope')).toEqual([]);
  });
});
