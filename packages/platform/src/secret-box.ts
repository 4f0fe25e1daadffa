// Webhook endpoint signing secrets at rest: AES-256-GCM under WEBHOOK_SECRETS_KEY, bound to the endpoint id
// (additional authenticated data), so a sealed secret copied onto another endpoint does not open. The sealed
// form names its key's id, so after a key rotation WEBHOOK_SECRETS_KEY_PREVIOUS still opens older events;
// a plain `whsec_` secret (events from before encryption) passes through unchanged.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** `whenc_v1.<key id>.<base64url iv>.<base64url ciphertext + tag>` (the domain's sealedWebhookSecretSchema). */
const sealedPrefix = 'whenc_v1';
const ivBytes = 12;
const tagBytes = 16;

/** A key's id: a digest of the key, so nothing else has to be configured or kept in step. */
export const secretKeyId = (key: Buffer) =>
  createHash('sha256').update('hatch.webhook-secrets-key').update(key).digest('hex').slice(0, 16);

/** 32 bytes, base64 (`openssl rand -base64 32`). */
export const secretKeySchema = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    const key = Buffer.from(raw, 'base64');
    if (key.length !== 32 || key.toString('base64') !== raw.replace(/\s/g, '')) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 bytes in base64 (openssl rand -base64 32)' });
      return z.NEVER;
    }
    return key;
  });

/** Local mode only: a fixed key anyone can derive, so local data survives restarts. Never in production. */
export const developmentSecretsKey = createHash('sha256').update('hatch local development webhook secrets').digest();

export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly keys: Map<string, Buffer>;

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.current = { id: secretKeyId(current), key: current };
    this.keys = new Map([current, ...previous].map((key) => [secretKeyId(key), key]));
  }

  get keyId(): string {
    return this.current.id;
  }

  /** Seals `secret` for the record `context` names (the endpoint id). */
  seal(secret: string, context: string): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [sealedPrefix, this.current.id, iv.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** The secret `stored` holds for `context`; a plain (pre-encryption) secret as it is. Throws when it cannot open. */
  open(stored: string, context: string): string {
    if (!isSealedSecret(stored)) return stored;
    const [, keyId = '', iv = '', sealed = ''] = stored.split('.');
    const key = this.keys.get(keyId);
    if (!key)
      throw new Error(
        `webhook secret sealed under key ${keyId}: not WEBHOOK_SECRETS_KEY nor WEBHOOK_SECRETS_KEY_PREVIOUS`,
      );
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    // A wrong key, endpoint or tampered bytes fail the tag check here (final throws): never a wrong secret.
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - tagBytes)), decipher.final()]).toString(
      'utf8',
    );
  }
}

export const isSealedSecret = (stored: string) => stored.startsWith(`${sealedPrefix}.`);

/** The environment variables both the command API (seals) and the notifier (opens) read. */
export const secretBoxEnvSchema = z.object({
  /** base64 of 32 bytes; required in production. Unset locally: a fixed development key (logged as such). */
  WEBHOOK_SECRETS_KEY: secretKeySchema.optional(),
  /** Comma-separated keys rotated out: still open the events sealed under them. */
  WEBHOOK_SECRETS_KEY_PREVIOUS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const keys: Buffer[] = [];
      for (const entry of (raw ?? '').split(',').filter((v) => v.trim())) {
        const parsed = secretKeySchema.safeParse(entry);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'each key must be 32 bytes in base64' });
          return z.NEVER;
        }
        keys.push(parsed.data);
      }
      return keys;
    }),
});
export type SecretBoxEnv = z.infer<typeof secretBoxEnvSchema>;

export const missingSecretsKey =
  'NODE_ENV=production needs WEBHOOK_SECRETS_KEY: the key (base64 of 32 bytes) that encrypts webhook endpoint secrets';

/** The box for these settings; `development`: the fixed local key is in use (say so at startup). */
export function secretBoxFrom(env: SecretBoxEnv): { box: SecretBox; development: boolean } {
  const key = env.WEBHOOK_SECRETS_KEY ?? null;
  return {
    box: new SecretBox(key ?? developmentSecretsKey, env.WEBHOOK_SECRETS_KEY_PREVIOUS ?? []),
    development: key === null,
  };
}
