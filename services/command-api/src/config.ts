// The command API's settings, all from the environment (12-factor). Defaults suit a local run.
import { checkEventStoreEnv, eventStoreEnvSchema, missingDatabaseUrl } from '@hatch/event-store';
import { z } from 'zod';

const apiKeyPairs = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (!raw?.trim()) return null;
    const clients = new Map<string, string>(); // key → client id
    for (const pair of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = pair.indexOf(':');
      const clientId = pair.slice(0, at).trim();
      const key = pair.slice(at + 1).trim();
      if (at <= 0 || !clientId || key.length < 8) {
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated clientId:key pairs, keys ≥ 8 characters' });
        return z.NEVER;
      }
      clients.set(key, clientId);
    }
    return clients;
  });

/** The settings without the cross-field rules (defaults for tests); processes load `commandApiConfigSchema`. */
const commandApiSettingsSchema = z.object({
  ...eventStoreEnvSchema.shape,
  /** `production` closes the service: keys on every route, secrets required (see commandApiConfigSchema). */
  NODE_ENV: z.string().default('development'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Loopback by default (local mode); containers and production set 0.0.0.0 or an interface. */
  API_HOST: z.string().default('127.0.0.1'),
  /** Provider webhook HMAC secret; when unset, signatures are not checked (local default). */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  /** `clientA:key1,clientB:key2`; when unset every command client is `default` and no key is needed. */
  API_KEYS: apiKeyPairs,
  /** Sustained sends per second per client (token refill rate). */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(1000),
  /** Burst a client may send at once (bucket size). */
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(2000),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Longest a command waits for the log before answering 503 (no hung requests when PostgreSQL is away). */
  APPEND_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Connections that write group-committed batches. */
  APPEND_CONNECTIONS: z.coerce.number().int().positive().default(2),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Serve the query routes on this server too (one base URL for clients). */
  SERVE_QUERIES: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Serve the web inbox at `/` (built with Vite on first start). */
  SERVE_INBOX: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Where the inbox's operations view reads provider health and projection lag. */
  /** One automatic STOP/START/HELP answer per (contact, our number, keyword) per this many seconds. */
  CONSENT_REPLY_WINDOW_SECONDS: z.coerce.number().int().positive().default(600),
  /** Bearer token for /metrics and the inbox's operations view; required in production. */
  OPERATOR_TOKEN: z.string().min(16).optional(),
  DISPATCHER_URL: z.url().default('http://127.0.0.1:8090'),
  PROJECTOR_URL: z.url().default('http://127.0.0.1:8091'),
  NOTIFIER_URL: z.url().default('http://127.0.0.1:8093'),
});

export const commandApiConfigSchema = commandApiSettingsSchema.superRefine((env, ctx) => {
  checkEventStoreEnv(env, ctx);
  if (env.NODE_ENV === 'production') {
    // A closed service: no start-up without what keeps it closed.
    const required = [
      ['DATABASE_URL', env.DATABASE_URL, 'the database (event log and read tables)'],
      ['WEBHOOK_SECRET', env.WEBHOOK_SECRET, 'the provider webhook signature secret'],
      ['OPERATOR_TOKEN', env.OPERATOR_TOKEN, 'the bearer token for /metrics and the operations view (≥ 16 characters)'],
    ] as const;
    for (const [name, value, what] of required)
      if (!value) ctx.addIssue({ code: 'custom', message: `NODE_ENV=production needs ${name}: ${what}`, path: [name] });
    if (env.API_KEYS)
      ctx.addIssue({
        code: 'custom',
        message: 'API_KEYS is not honoured in production: issue account keys with bin/hatch',
        path: ['API_KEYS'],
      });
  }
  // The query routes read the read tables even when the log is EventStoreDB.
  if (env.SERVE_QUERIES && !env.DATABASE_URL && env.EVENT_STORE !== 'postgres') {
    ctx.addIssue({ code: 'custom', message: missingDatabaseUrl, path: ['DATABASE_URL'] });
  }
});

export type CommandApiEnv = z.infer<typeof commandApiSettingsSchema>;

/** What the routes need (main.ts maps the environment onto it; tests build it directly). */
export interface CommandApiConfig {
  /** NODE_ENV=production: every request needs an account's key; no local account. */
  production: boolean;
  /** Deprecated `API_KEYS` (key → client name, local mode only); null: none. Account keys come from bin/hatch. */
  apiKeys: Map<string, string> | null;
  webhookSecret: string | null;
  consentReplyWindowMs: number;
  /** Guards /metrics and the operations view when set (always set in production). */
  operatorToken: string | null;
  webhookToleranceSeconds: number;
  rateLimit: { perSecond: number; burst: number };
  appendTimeoutMs: number;
  bodyLimit: number;
}

export const commandApiConfigFrom = (env: CommandApiEnv): CommandApiConfig => ({
  production: env.NODE_ENV === 'production',
  apiKeys: env.API_KEYS,
  webhookSecret: env.WEBHOOK_SECRET ?? null,
  operatorToken: env.OPERATOR_TOKEN ?? null,
  consentReplyWindowMs: env.CONSENT_REPLY_WINDOW_SECONDS * 1000,
  webhookToleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
  rateLimit: { perSecond: env.RATE_LIMIT_PER_SECOND, burst: env.RATE_LIMIT_BURST },
  appendTimeoutMs: env.APPEND_TIMEOUT_MS,
  bodyLimit: env.BODY_LIMIT_BYTES,
});

export const defaultCommandApiConfig = (over: Partial<CommandApiConfig> = {}): CommandApiConfig => ({
  ...commandApiConfigFrom(commandApiSettingsSchema.parse({})),
  ...over,
});
