import { describe, expect, it } from 'vitest';
import { conversationIdFor, conversationIdOf, conversationKey } from './conversation-key.ts';

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
});
