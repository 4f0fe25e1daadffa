import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  apiKeyHashesEqual,
  apiKeyMatches,
  apiKeyPrefix,
  generateApiKey,
  hashApiKey,
  isApiKeyShaped,
  type RandomBytes,
} from './api-keys.ts';
import { apiKeyHashSchema, apiKeyPrefixSchema } from './events.ts';

/** Yields the given bytes in a loop: a fixed random source. */
const fixed =
  (bytes: number[]): RandomBytes =>
  (size) =>
    Uint8Array.from({ length: size }, (_, i) => bytes[i % bytes.length] as number);

describe('API keys', () => {
  it('are hk_live_ and 40 base62 characters, with a visible prefix and a SHA-256 hash', () => {
    const issued = generateApiKey(randomBytes);
    expect(issued.key).toMatch(/^hk_live_[0-9A-Za-z]{40}$/);
    expect(issued.prefix).toBe(issued.key.slice(0, 14));
    expect(apiKeyPrefixSchema.safeParse(issued.prefix).success).toBe(true);
    expect(apiKeyHashSchema.safeParse(issued.keyHash).success).toBe(true);
    expect(issued.keyHash).toBe(hashApiKey(issued.key));
    expect(issued.keyHash).not.toContain(issued.key.slice(8));
    expect(generateApiKey(randomBytes).key).not.toBe(issued.key);
  });

  it('come from the injected random source, dropping bytes that would bias base62', () => {
    // 0 → '0', 61 → 'z', 248 and 255 are dropped rather than folded onto '0'..'7'.
    const key = generateApiKey(fixed([0, 248, 61, 255])).key;
    expect(key).toBe(`hk_live_${'0z'.repeat(20)}`);
    expect(generateApiKey(fixed([0, 248, 61, 255])).key).toBe(key);
  });

  it('hash to the known SHA-256 and match only themselves', () => {
    const key = `hk_live_${'a'.repeat(40)}`;
    // The NIST test vector for SHA-256("abc"): the hash is plain SHA-256, hex, as the read model stores it.
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(apiKeyMatches(key, hashApiKey(key))).toBe(true);
    expect(apiKeyMatches(`hk_live_${'a'.repeat(39)}b`, hashApiKey(key))).toBe(false);
    expect(apiKeyMatches('Bearer nonsense', hashApiKey('Bearer nonsense'))).toBe(false);
    expect(apiKeyPrefix(key)).toBe('hk_live_aaaaaa');
  });

  it('compare hashes by content whatever their length', () => {
    const h = hashApiKey('x');
    expect(apiKeyHashesEqual(h, h)).toBe(true);
    expect(apiKeyHashesEqual(h, hashApiKey('y'))).toBe(false);
    expect(apiKeyHashesEqual(h, h.slice(1))).toBe(false);
    expect(isApiKeyShaped(`hk_live_${'Z'.repeat(40)}`)).toBe(true);
    expect(isApiKeyShaped(`hk_test_${'Z'.repeat(40)}`)).toBe(false);
  });
});
