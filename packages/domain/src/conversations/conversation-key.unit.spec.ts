import { describe, expect, it } from 'vitest';
import { localAccountId } from '../accounts/local-account.ts';
import {
  accountConversationIdFor,
  conversationBelongsTo,
  conversationIdFor,
  conversationIdOf,
  conversationKey,
} from './conversation-key.ts';

describe('conversation key', () => {
  it('is the same participant set whatever the direction or duplicates', () => {
    expect(conversationKey(['+18045551234', '+12016661234'])).toBe(conversationKey(['+12016661234', '+18045551234']));
    expect(conversationKey(['a@b.com', 'a@b.com', 'c@d.com'])).toBe('a@b.com\nc@d.com');
  });

  it('derives a stable uuid that differs per participant set', () => {
    const ab = conversationIdFor(['+12016661234', '+18045551234']);
    expect(ab).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(conversationIdFor(['+18045551234', '+12016661234'])).toBe(ab);
    expect(conversationIdOf(conversationKey(['+12016661234', '+18045551234']))).toBe(ab);
    expect(conversationIdFor(['+12016661234', '+18045551235'])).not.toBe(ab);
  });

  it('refuses an empty set', () => {
    expect(() => conversationKey([])).toThrow(RangeError);
  });

  it('scopes a conversation to its account: same participants, another account, another id', () => {
    const acme = '0b6f3c2e-6d1a-4c1e-9f7a-2b3c4d5e6f70';
    const globex = '9d8c7b6a-5f4e-4d3c-8b2a-1a2b3c4d5e6f';
    const participants = ['+12016661234', '+18045551234'];
    const id = accountConversationIdFor(acme, participants);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(accountConversationIdFor(acme, [...participants].reverse())).toBe(id);
    expect(accountConversationIdFor(acme, participants)).toBe(id);
    expect(accountConversationIdFor(globex, participants)).not.toBe(id);
    expect(id).not.toBe(conversationIdFor(participants));
    // Pinned: the id is part of stored history, so a change of derivation must fail here first.
    expect(id).toBe('4fd2eeb6-1b0b-53dc-9ef3-39869e6cd881');
  });

  it("tells a conversation's account from its id; ids from before accounts are the local account's", () => {
    const acme = '0b6f3c2e-6d1a-4c1e-9f7a-2b3c4d5e6f70';
    const participants = ['+12016661234', '+18045551234'];
    const id = accountConversationIdFor(acme, participants);
    expect(conversationBelongsTo(acme, id, participants)).toBe(true);
    expect(conversationBelongsTo(localAccountId, id, participants)).toBe(false);
    expect(conversationBelongsTo(acme, id, ['+12016661234'])).toBe(false);
    expect(conversationBelongsTo(localAccountId, conversationIdFor(participants), participants)).toBe(true);
    expect(conversationBelongsTo(acme, conversationIdFor(participants), participants)).toBe(false);
  });
});
