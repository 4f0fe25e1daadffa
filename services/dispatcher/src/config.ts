// Dispatcher settings, all from the environment (defaults suit a local run with the mock providers).
import { checkEventStoreEnv, databaseUrlSchema, eventStoreEnvSchema } from '@hatch/event-store';
import { z } from 'zod';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
/** An empty value means "no such provider" (a channel without a backup). */
const optionalUrl = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => (v.trim() === '' ? null : v))
    .pipe(z.url().nullable());

export const dispatcherConfigSchema = z
  .object({
    ...eventStoreEnvSchema.shape,
    /** The schedule, claims and checkpoints live in PostgreSQL whichever adapter holds the log. */
    DATABASE_URL: databaseUrlSchema,
    DISPATCHER_HOST: z.string().default('127.0.0.1'),
    DISPATCHER_PORT: int(8090),
    DISPATCHER_SUBSCRIPTION_ID: z.string().min(1).default('dispatcher'),
    /** `log`: this process keeps the schedule from the log; `kafka`: it consumes the relay's topic (scale-out). */
    DISPATCH_TRANSPORT: z.enum(['log', 'kafka']).default('log'),
    SMS_PROVIDER_URL: z.url().default('http://127.0.0.1:8001'),
    SMS_BACKUP_PROVIDER_URL: optionalUrl('http://127.0.0.1:8003'),
    EMAIL_PROVIDER_URL: z.url().default('http://127.0.0.1:8002'),
    EMAIL_BACKUP_PROVIDER_URL: optionalUrl('http://127.0.0.1:8004'),
    /** `scaffold`: the exercise's JSON protocol at SMS_PROVIDER_URL; `twilio`: Twilio Programmable Messaging. */
    SMS_PROVIDER: z.enum(['scaffold', 'twilio']).default('scaffold'),
    TWILIO_BASE_URL: z.url().default('https://api.twilio.com'),
    TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    /** Our public base URL (as the providers reach the command API); the status callback URL derives from it. */
    PUBLIC_BASE_URL: z.url().optional(),
    /** Where Twilio posts status callbacks; default `${PUBLIC_BASE_URL}/api/webhooks/twilio/status`. */
    TWILIO_STATUS_CALLBACK_URL: z.url().optional(),
    /** `scaffold`: the exercise's protocol at EMAIL_PROVIDER_URL; `sendgrid`: SendGrid v3 Mail Send. */
    EMAIL_PROVIDER: z.enum(['scaffold', 'sendgrid']).default('scaffold'),
    SENDGRID_BASE_URL: z.url().default('https://api.sendgrid.com'),
    SENDGRID_API_KEY: z.string().min(1).optional(),
    PROVIDER_TIMEOUT_MS: int(10_000, 1),
    /** Calls in flight to one provider. */
    PROVIDER_MAX_IN_FLIGHT: int(128, 1),
    /**
     * Attempts in flight in this process. Most of an attempt's time is spent waiting (appends, provider):
     * throughput is about this divided by an attempt's duration.
     */
    DISPATCH_CONCURRENCY: int(1024, 1),
    /** Connections for the schedule (projection, claims, lease compare-and-sets). */
    DISPATCH_POOL_CONNECTIONS: int(8, 1),
    /** Fresh requests held in memory (already leased) while every attempt slot is busy. */
    DISPATCH_BACKLOG: int(2000),
    /** How long a claimed message stays reserved to this process; must outlast a provider call. */
    DISPATCH_LEASE_MS: int(30_000, 1),
    /** How often due retries are looked for when nothing wakes the dispatcher earlier. */
    DISPATCH_POLL_MS: int(200, 1),
    /** Sends due within this long are claimed ahead and started by a timer at their due time (0: off). */
    DISPATCH_AHEAD_MS: int(1000),
    /** How often the backlog gauges (due and unclaimed, oldest due) are sampled from the schedule. */
    DISPATCH_BACKLOG_SAMPLE_MS: int(2000, 100),
    DISPATCH_BATCH_SIZE: int(500, 1),
    RETRY_MAX_ATTEMPTS_PER_PROVIDER: int(4, 1),
    RETRY_BASE_DELAY_MS: int(500),
    RETRY_MAX_DELAY_MS: int(60_000),
    RETRY_DEADLINE_MS: int(3_600_000, 1),
    BREAKER_FAILURE_THRESHOLD: int(10, 1),
    BREAKER_COOLDOWN_MS: int(5_000, 1),
    BREAKER_HALF_OPEN_PROBES: int(1, 1),
    EVENT_STORE_READ_CONNECTIONS: int(8, 1),
    EVENT_STORE_APPEND_CONNECTIONS: int(2, 1),
  })
  .superRefine(checkEventStoreEnv)
  .superRefine((c, ctx) => {
    const need = (name: keyof typeof c, why: string) => {
      if (!c[name]) ctx.addIssue({ code: 'custom', message: `${why} needs ${name}`, path: [name] });
    };
    if (c.SMS_PROVIDER === 'twilio') {
      need('TWILIO_ACCOUNT_SID', 'SMS_PROVIDER=twilio');
      need('TWILIO_AUTH_TOKEN', 'SMS_PROVIDER=twilio');
    }
    if (c.EMAIL_PROVIDER === 'sendgrid') need('SENDGRID_API_KEY', 'EMAIL_PROVIDER=sendgrid');
  })
  // A send claimed ahead still has most of its lease when it starts.
  .refine((c) => c.DISPATCH_AHEAD_MS * 2 <= c.DISPATCH_LEASE_MS, {
    message: 'DISPATCH_AHEAD_MS must be at most half of DISPATCH_LEASE_MS',
    path: ['DISPATCH_AHEAD_MS'],
  })
  .refine((c) => c.DISPATCH_LEASE_MS > c.PROVIDER_TIMEOUT_MS + 1000, {
    message: 'DISPATCH_LEASE_MS must exceed PROVIDER_TIMEOUT_MS by at least 1000 ms',
    path: ['DISPATCH_LEASE_MS'],
  });
export type DispatcherConfig = z.infer<typeof dispatcherConfigSchema>;
