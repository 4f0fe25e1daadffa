// API keys: `hk_live_` and 40 random base62 characters (≈238 bits), shown once and stored only as a hash.
// SHA-256, not a password hash (bcrypt/scrypt/argon2): those slow hashes exist to make guessing low-entropy
// human passwords expensive; a key drawn uniformly from 2^238 cannot be guessed however fast the hash is,
// and a fast hash lets every request be authenticated with one indexed lookup of the hash.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Where the randomness comes from (`crypto.randomBytes` in production; a fixed one in tests). */
export type RandomBytes = (size: number) => Uint8Array;

export const apiKeyLivePrefix = 'hk_live_';
const secretLength = 40;
/** Characters of the secret kept visible in `prefix` (they identify a key in listings and logs). */
const visibleLength = 6;
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const apiKeyShape = /^hk_live_[0-9A-Za-z]{40}$/;

export interface IssuedApiKey {
  /** The key itself: given to the customer once, never stored. */
  key: string;
  keyHash: string;
  prefix: string;
}

/** Uniform base62: bytes of 248 and above are dropped, so `% 62` favours no character (248 = 4 × 62). */
function randomBase62(random: RandomBytes, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= 248) continue;
      out += base62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateApiKey(random: RandomBytes): IssuedApiKey {
  const key = `${apiKeyLivePrefix}${randomBase62(random, secretLength)}`;
  return { key, keyHash: hashApiKey(key), prefix: apiKeyPrefix(key) };
}

/** Whether a presented credential has the shape of a key at all (checked before any lookup). */
export const isApiKeyShaped = (candidate: string) => apiKeyShape.test(candidate);

/** Lower-case hex SHA-256 of the whole key: what `ApiKeyIssued.keyHash` and `api_keys.key_hash` hold. */
export const hashApiKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

export const apiKeyPrefix = (key: string) => key.slice(0, apiKeyLivePrefix.length + visibleLength);

/** Compares two hashes in time independent of where they differ. */
export function apiKeyHashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Lengths are public (every hash is 64 hex characters); only the contents must not leak through timing.
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when `presented` is the key whose hash is `keyHash`. */
export const apiKeyMatches = (presented: string, keyHash: string) =>
  isApiKeyShaped(presented) && apiKeyHashesEqual(hashApiKey(presented), keyHash);
