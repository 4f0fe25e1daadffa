// The notifier's settings: production refuses to start without the key that opens endpoint secrets.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { notifierConfigSchema } from './config.ts';

const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x@localhost/x' };

describe('notifier config', () => {
  it('refuses production without WEBHOOK_SECRETS_KEY, naming it; accepts it with a 32-byte key', () => {
    const refused = notifierConfigSchema.safeParse(production);
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/WEBHOOK_SECRETS_KEY/);
    const key = randomBytes(32).toString('base64');
    expect(notifierConfigSchema.safeParse({ ...production, WEBHOOK_SECRETS_KEY: key }).success).toBe(true);
    expect(
      notifierConfigSchema.safeParse({ ...production, WEBHOOK_SECRETS_KEY: randomBytes(31).toString('base64') })
        .success,
    ).toBe(false);
  });

  it('keeps delivered deliveries 30 days by default', () => {
    const config = notifierConfigSchema.parse({ DATABASE_URL: 'postgres://x@localhost/x' });
    expect(config.WEBHOOK_RETENTION_DAYS).toBe(30);
    expect(config.WEBHOOK_SECRETS_KEY).toBeUndefined();
  });
});
