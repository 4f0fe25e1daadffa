// The secret box on its own: what seals opens only under the same key and record; plain secrets pass; the
// environment's keys parse strictly.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { developmentSecretsKey, SecretBox, secretBoxEnvSchema, secretBoxFrom, secretKeyId } from './secret-box.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const endpointId = '6f1c2b1e-1d7a-4f4e-9a57-6a0d3f6d1c01';

describe('SecretBox', () => {
  it('seals with a fresh IV each time and opens to the secret', () => {
    const box = new SecretBox(randomBytes(32));
    const a = box.seal(secret, endpointId);
    const b = box.seal(secret, endpointId);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret.slice(6));
    expect(a.split('.')[1]).toBe(box.keyId);
    expect(box.open(a, endpointId)).toBe(secret);
  });

  it('refuses a tampered ciphertext, another record, and an unknown key', () => {
    const key = randomBytes(32);
    const sealed = new SecretBox(key).seal(secret, endpointId);
    const last = sealed.at(-1) === 'A' ? 'B' : 'A';
    expect(() => new SecretBox(key).open(sealed.slice(0, -1) + last, endpointId)).toThrow();
    expect(() => new SecretBox(key).open(sealed, 'another-endpoint')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, endpointId)).toThrow(/not WEBHOOK_SECRETS_KEY/);
  });

  it('opens what a previous key sealed, and passes a plain (pre-encryption) secret through', () => {
    const old = randomBytes(32);
    const sealed = new SecretBox(old).seal(secret, endpointId);
    expect(new SecretBox(randomBytes(32), [old]).open(sealed, endpointId)).toBe(secret);
    expect(new SecretBox(randomBytes(32)).open(secret, endpointId)).toBe(secret);
  });

  it('reads the keys from the environment strictly; unset is the development key, flagged', () => {
    const key = randomBytes(32);
    const env = secretBoxEnvSchema.parse({
      WEBHOOK_SECRETS_KEY: key.toString('base64'),
      WEBHOOK_SECRETS_KEY_PREVIOUS: `${randomBytes(32).toString('base64')},`,
    });
    const { box, development } = secretBoxFrom(env);
    expect(development).toBe(false);
    expect(box.keyId).toBe(secretKeyId(key));
    expect(secretBoxEnvSchema.safeParse({ WEBHOOK_SECRETS_KEY: randomBytes(16).toString('base64') }).success).toBe(
      false,
    );
    expect(secretBoxEnvSchema.safeParse({ WEBHOOK_SECRETS_KEY: 'not base64!' }).success).toBe(false);
    expect(secretBoxEnvSchema.safeParse({ WEBHOOK_SECRETS_KEY_PREVIOUS: 'short' }).success).toBe(false);
    const local = secretBoxFrom(secretBoxEnvSchema.parse({}));
    expect(local.development).toBe(true);
    expect(local.box.keyId).toBe(secretKeyId(developmentSecretsKey));
  });
});
