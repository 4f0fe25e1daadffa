// The command API's settings, all from the environment (12-factor). Defaults suit a local run.
import { checkEventStoreEnv, eventStoreEnvSchema, missingDatabaseUrl } from '@hatch/event-store';
import { missingSecretsKey, type SecretBox, secretBoxEnvSchema, secretBoxFrom } from '@hatch/platform';
import { liveStreamEnvSchema } from '@hatch/query-api';
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

/** `a,b`: every non-empty entry (a rotation keeps the old and the new secret valid together). */
const secretList = z
  .string()
  .optional()
  .transform((raw) =>
    (raw ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  );

/** The settings without the cross-field rules (defaults for tests); processes load `commandApiConfigSchema`. */
const commandApiSettingsSchema = z.object({
  ...eventStoreEnvSchema.shape,
  ...liveStreamEnvSchema.shape,
  /** WEBHOOK_SECRETS_KEY (+ _PREVIOUS): seals endpoint signing secrets before they are appended. */
  ...secretBoxEnvSchema.shape,
  /** `production` closes the service: keys on every route, secrets required (see commandApiConfigSchema). */
  NODE_ENV: z.string().default('development'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Loopback by default (local mode); containers and production set 0.0.0.0 or an interface. */
  API_HOST: z.string().default('127.0.0.1'),
  /** Provider webhook HMAC secret; when unset, signatures are not checked (local default). */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  /** The secret being rotated out; verifies alongside WEBHOOK_SECRET (which may also be `new,old`). */
  WEBHOOK_SECRET_PREVIOUS: z.string().min(1).optional(),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  /** `clientA:key1,clientB:key2`; when unset every command client is `default` and no key is needed. */
  API_KEYS: apiKeyPairs,
  /** Sustained sends per second per client (token refill rate). */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(1000),
  /** Burst a client may send at once (bucket size). */
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(2000),
  /** `on` limits provider webhooks per source address; default: on in production, off locally. */
  WEBHOOK_RATE_LIMIT: z.enum(['on', 'off']).optional(),
  /** Sustained webhook requests per second per source address. */
  WEBHOOK_RATE_PER_SECOND: z.coerce.number().positive().default(50),
  /** Webhook requests a source address may send at once. */
  WEBHOOK_BURST: z.coerce.number().int().positive().default(200),
  /**
   * Which proxy's X-Forwarded-For to believe for the source address (fastify `trustProxy`): `true`,
   * a hop count, or addresses/CIDRs (comma-separated). Default off: the peer address.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((raw): boolean | number | string => {
      const value = raw?.trim() ?? '';
      if (value === '' || value === 'false') return false;
      if (value === 'true') return true;
      return /^\d+$/.test(value) ? Number(value) : value;
    }),
  /** Signs the web inbox's session cookie (≥ 32 characters); unset: a random one per process. */
  SESSION_SECRET: z.string().min(32).optional(),
  /** How long a web inbox sign-in lasts. */
  SESSION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(12 * 60 * 60),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Longest a command waits for the log before answering 503 (no hung requests when PostgreSQL is away). */
  APPEND_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** Connections that write group-committed batches. */
  APPEND_CONNECTIONS: z.coerce.number().int().positive().default(1),
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
  /** How providers reach us (`https://hatch.example.com`); signature URLs are built from it when set. */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Twilio auth token(s) that sign its webhooks; two comma-separated while rotating. */
  TWILIO_AUTH_TOKEN: secretList,
  /** `/api/webhooks/twilio/*`: `auto` serves them when TWILIO_AUTH_TOKEN is set. */
  TWILIO_WEBHOOKS: z.enum(['auto', 'true', 'false']).default('auto'),
  /** The Signed Event Webhook's verification key as SendGrid's console shows it (base64 DER); `new,old` while rotating. */
  SENDGRID_WEBHOOK_PUBLIC_KEY: secretList,
  /** A signed Event Webhook batch older (or further ahead) than this is refused 403: a replayed capture. */
  SENDGRID_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(600),
  /** Inbound Parse's secret: in the URL path (`…/inbound/<secret>`) or as the basic-auth password; `new,old` while rotating. */
  SENDGRID_INBOUND_SECRET: secretList,
  /** `/api/webhooks/sendgrid/*`: `auto` serves each route when its key/secret is set. */
  SENDGRID_WEBHOOKS: z.enum(['auto', 'true', 'false']).default('auto'),
  /** Largest Inbound Parse post (all parts); SendGrid's own ceiling is 30 MB. */
  SENDGRID_INBOUND_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 1024 * 1024),
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
    if (!env.WEBHOOK_SECRETS_KEY)
      ctx.addIssue({ code: 'custom', message: missingSecretsKey, path: ['WEBHOOK_SECRETS_KEY'] });
    // A protocol's webhooks never run unsigned in production.
    if (env.TWILIO_WEBHOOKS === 'true' && env.TWILIO_AUTH_TOKEN.length === 0)
      ctx.addIssue({
        code: 'custom',
        message: 'NODE_ENV=production with TWILIO_WEBHOOKS=true needs TWILIO_AUTH_TOKEN: the key of X-Twilio-Signature',
        path: ['TWILIO_AUTH_TOKEN'],
      });
    if (env.SENDGRID_WEBHOOKS === 'true' && env.SENDGRID_WEBHOOK_PUBLIC_KEY.length === 0)
      ctx.addIssue({
        code: 'custom',
        message:
          'NODE_ENV=production with SENDGRID_WEBHOOKS=true needs SENDGRID_WEBHOOK_PUBLIC_KEY: the Event Webhook verification key',
        path: ['SENDGRID_WEBHOOK_PUBLIC_KEY'],
      });
    if (env.SENDGRID_WEBHOOKS === 'true' && env.SENDGRID_INBOUND_SECRET.length === 0)
      ctx.addIssue({
        code: 'custom',
        message:
          'NODE_ENV=production with SENDGRID_WEBHOOKS=true needs SENDGRID_INBOUND_SECRET: the Inbound Parse secret',
        path: ['SENDGRID_INBOUND_SECRET'],
      });
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
  /** Comma-separated: every one verifies (rotation); null: signatures not checked (local mode only). */
  webhookSecret: string | null;
  /** Twilio's webhooks: served or not, and the auth tokens their signatures may be made with. */
  twilio: { enabled: boolean; authTokens: string[] };
  /** SendGrid's Event Webhook (ECDSA public keys) and Inbound Parse (path/basic-auth secrets), each served or not. */
  sendGrid: {
    /** toleranceSeconds: how far the signed timestamp may be from now. */
    events: { enabled: boolean; publicKeys: string[]; toleranceSeconds: number };
    inbound: { enabled: boolean; secrets: string[]; maxBytes: number };
  };
  /** Base of the URLs providers sign (null: the request's own scheme and host). */
  publicBaseUrl: string | null;
  consentReplyWindowMs: number;
  /** Guards /metrics and the operations view when set (always set in production). */
  operatorToken: string | null;
  webhookToleranceSeconds: number;
  rateLimit: { perSecond: number; burst: number };
  /** Provider webhooks per source address; null: unlimited. */
  webhookRateLimit: { perSecond: number; burst: number } | null;
  /** fastify `trustProxy`: whose X-Forwarded-For gives `request.ip`. */
  trustProxy: boolean | number | string;
  /** The web inbox's sign-in cookie. */
  session: { secret: string | null; ttlSeconds: number };
  appendTimeoutMs: number;
  bodyLimit: number;
  /** Seals endpoint secrets for the log; `development`: the fixed local key (no WEBHOOK_SECRETS_KEY). */
  webhookSecrets: { box: SecretBox; development: boolean };
}

/** `true`/`false` force a protocol's webhooks on or off; `auto` serves them once their key is configured. */
const served = (setting: 'auto' | 'true' | 'false', keys: readonly string[]) =>
  setting === 'true' || (setting === 'auto' && keys.length > 0);

export const commandApiConfigFrom = (env: CommandApiEnv): CommandApiConfig => ({
  production: env.NODE_ENV === 'production',
  apiKeys: env.API_KEYS,
  webhookSecret: [env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS].filter(Boolean).join(',') || null,
  twilio: {
    enabled: env.TWILIO_WEBHOOKS === 'true' || (env.TWILIO_WEBHOOKS === 'auto' && env.TWILIO_AUTH_TOKEN.length > 0),
    authTokens: env.TWILIO_AUTH_TOKEN,
  },
  sendGrid: {
    events: {
      enabled: served(env.SENDGRID_WEBHOOKS, env.SENDGRID_WEBHOOK_PUBLIC_KEY),
      publicKeys: env.SENDGRID_WEBHOOK_PUBLIC_KEY,
      toleranceSeconds: env.SENDGRID_WEBHOOK_TOLERANCE_SECONDS,
    },
    inbound: {
      enabled: served(env.SENDGRID_WEBHOOKS, env.SENDGRID_INBOUND_SECRET),
      secrets: env.SENDGRID_INBOUND_SECRET,
      maxBytes: env.SENDGRID_INBOUND_MAX_BYTES,
    },
  },
  publicBaseUrl: env.PUBLIC_BASE_URL ?? null,
  operatorToken: env.OPERATOR_TOKEN ?? null,
  consentReplyWindowMs: env.CONSENT_REPLY_WINDOW_SECONDS * 1000,
  webhookToleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
  rateLimit: { perSecond: env.RATE_LIMIT_PER_SECOND, burst: env.RATE_LIMIT_BURST },
  webhookRateLimit:
    (env.WEBHOOK_RATE_LIMIT ?? (env.NODE_ENV === 'production' ? 'on' : 'off')) === 'on'
      ? { perSecond: env.WEBHOOK_RATE_PER_SECOND, burst: env.WEBHOOK_BURST }
      : null,
  trustProxy: env.TRUST_PROXY,
  session: { secret: env.SESSION_SECRET ?? null, ttlSeconds: env.SESSION_TTL_SECONDS },
  appendTimeoutMs: env.APPEND_TIMEOUT_MS,
  bodyLimit: env.BODY_LIMIT_BYTES,
  webhookSecrets: secretBoxFrom(env),
});

export const defaultCommandApiConfig = (over: Partial<CommandApiConfig> = {}): CommandApiConfig => ({
  ...commandApiConfigFrom(commandApiSettingsSchema.parse({})),
  ...over,
});
