// The notifier's settings, from the environment. Defaults follow the issue's retry schedule (about a day);
// tests shorten it (WEBHOOK_RETRY_SCHEDULE=200ms,400ms…).
import { checkEventStoreEnv, databaseUrlSchema, eventStoreEnvSchema } from '@hatch/event-store';
import { missingSecretsKey, secretBoxEnvSchema } from '@hatch/platform';
import { defaultRetrySchedule, retryScheduleSchema } from '@hatch/webhooks';
import { z } from 'zod';

const positiveInt = () => z.coerce.number().int().positive();

export const notifierConfigSchema = z
  .object({
    ...eventStoreEnvSchema.shape,
    /** WEBHOOK_SECRETS_KEY (+ _PREVIOUS): opens the endpoint secrets the command API sealed. */
    ...secretBoxEnvSchema.shape,
    /** Production: only https endpoints whose addresses (after DNS) are public. */
    NODE_ENV: z.string().default('development'),
    /** Delivery tables and the checkpoint live in PostgreSQL whichever adapter holds the log. */
    DATABASE_URL: databaseUrlSchema,
    NOTIFIER_HOST: z.string().default('127.0.0.1'),
    NOTIFIER_PORT: z.coerce.number().int().min(0).max(65535).default(8093),
    NOTIFIER_SUBSCRIPTION_ID: z.string().min(1).default('notifier'),
    NOTIFIER_BATCH_SIZE: positiveInt().default(500),
    /** Delays between attempts after the first; when used up the delivery is `failed`. */
    WEBHOOK_RETRY_SCHEDULE: retryScheduleSchema.prefault(defaultRetrySchedule),
    /** One attempt's whole time (connect, send, answer). */
    WEBHOOK_TIMEOUT_MS: positiveInt().default(10_000),
    /** A delivery in flight is held this long; a crashed notifier's deliveries are sent again after it. */
    WEBHOOK_LEASE_MS: positiveInt().default(60_000),
    /** Attempts in flight in all, and per endpoint (a slow endpoint holds at most its own slots). */
    WEBHOOK_CONCURRENCY: positiveInt().default(64),
    WEBHOOK_ENDPOINT_CONCURRENCY: positiveInt().default(4),
    WEBHOOK_POLL_MS: positiveInt().default(500),
    /** How much of an endpoint's answer is read (the status is what counts). */
    WEBHOOK_MAX_RESPONSE_BYTES: positiveInt().default(4096),
    /** An endpoint failing without a success for this long is disabled (the account sees why). */
    WEBHOOK_DISABLE_AFTER_MS: positiveInt().default(3 * 24 * 3_600_000),
    /** Delivered deliveries (and their attempts) older than this many days are deleted; pending and failed stay. */
    WEBHOOK_RETENTION_DAYS: positiveInt().default(30),
    /** How often retention runs (also once at start), and how many deliveries one DELETE takes. */
    WEBHOOK_RETENTION_INTERVAL_MS: positiveInt().default(3_600_000),
    WEBHOOK_RETENTION_BATCH: positiveInt().default(1000),
    LOG_LEVEL: z.string().default('info'),
  })
  .superRefine(checkEventStoreEnv)
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.WEBHOOK_SECRETS_KEY)
      ctx.addIssue({ code: 'custom', message: missingSecretsKey, path: ['WEBHOOK_SECRETS_KEY'] });
    if (env.WEBHOOK_LEASE_MS <= env.WEBHOOK_TIMEOUT_MS)
      ctx.addIssue({
        code: 'custom',
        message: 'WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS (else a slow attempt is sent twice at once)',
        path: ['WEBHOOK_LEASE_MS'],
      });
  });
export type NotifierConfig = z.infer<typeof notifierConfigSchema>;
