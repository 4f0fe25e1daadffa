// Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64-decoded
// part of the `whsec_` secret. Receivers verify with any Standard Webhooks library.
import { createHmac } from 'node:crypto';
import type { RandomBytes } from '../accounts/api-keys.ts';

export const webhookSecretPrefix = 'whsec_';

/** 24 random bytes (192 bits), base64, behind `whsec_`. */
export const generateWebhookSecret = (random: RandomBytes) =>
  `${webhookSecretPrefix}${Buffer.from(random(24)).toString('base64')}`;

export function signWebhook(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(webhookSecretPrefix.length), 'base64');
  const mac = createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}
