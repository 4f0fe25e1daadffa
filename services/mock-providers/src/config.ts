// Mock provider settings, all from the environment. Each provider (primary and backup, per channel)
// is its own HTTP server on its own port, with its own state and faults.
import { z } from 'zod';

const rate = z.coerce.number().min(0).max(1).default(0);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('true')
  .transform((v) => v === 'true' || v === '1');

export const mockProvidersConfigSchema = z.object({
  MOCK_PROVIDERS_HOST: z.string().default('127.0.0.1'),
  SMS_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(8001),
  EMAIL_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(8002),
  SMS_BACKUP_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  EMAIL_BACKUP_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(8004),
  HATCH_CALLBACK_BASE_URL: z.url().default('http://127.0.0.1:8080'),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  /**
   * Signs the email mock's SendGrid Event Webhook posts (P-256, base64 PKCS#8 DER or PEM); give its public
   * half to the command API as SENDGRID_WEBHOOK_PUBLIC_KEY. Unset: a key pair per start, public half logged
   * and served at GET /admin/sendgrid/public-key.
   */
  SENDGRID_WEBHOOK_PRIVATE_KEY: z.string().min(1).optional(),
  /** Sign contact replies posted in Twilio's protocol (`POST /admin/reply` with `"protocol":"twilio"`). */
  TWILIO_ACCOUNT_SID: z.string().min(1).default('AC00000000000000000000000000000000'),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  /** The Inbound Parse path secret for replies posted in SendGrid's protocol (`"protocol":"sendgrid"`). */
  SENDGRID_INBOUND_SECRET: z.string().min(1).optional(),
  // Faults applied to every provider at start (change one provider at run time with POST /admin/faults).
  FAULT_500_RATE: rate,
  FAULT_429_RATE: rate,
  FAULT_RETRY_AFTER_SECONDS: z.coerce.number().int().min(0).default(1),
  FAULT_TIMEOUT_RATE: rate,
  FAULT_SLOW_RATE: rate,
  FAULT_SLOW_MS: z.coerce.number().int().min(0).default(2000),
  /** `false`: the mocks ignore Idempotency-Key as the real providers do (each repeat is a second message). */
  MOCK_IDEMPOTENCY: flag,
  // Delivery receipts.
  RECEIPTS_ENABLED: flag,
  RECEIPT_DELAY_MS: z.coerce.number().int().min(0).default(100),
  RECEIPT_DUPLICATE_RATE: rate,
  RECEIPT_OUT_OF_ORDER_RATE: rate,
  RECEIPT_OUT_OF_ORDER_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  RECEIPT_ATTEMPTS: z.coerce.number().int().min(1).default(4),
});
export type MockProvidersConfig = z.infer<typeof mockProvidersConfigSchema>;
