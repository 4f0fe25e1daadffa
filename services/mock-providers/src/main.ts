// Mock SMS/MMS and email providers (primary and backup each) for local runs and tests.
import { createLogger, loadConfig } from '@hatch/platform';
import { providerIds } from '@hatch/vocabulary';
import { mockProvidersConfigSchema } from './config.ts';
import { buildProviderServer, type ProviderKind } from './provider-server.ts';
import { generateSendGridKeyPair, sendGridKeyPairFrom } from './sendgrid-mock.ts';

const config = loadConfig(mockProvidersConfigSchema);
const log = createLogger('mock-providers');

const providers: Array<{ kind: ProviderKind; id: string; port: number }> = [
  { kind: 'sms', id: providerIds.sms, port: config.SMS_PROVIDER_PORT },
  { kind: 'email', id: providerIds.email, port: config.EMAIL_PROVIDER_PORT },
  { kind: 'sms', id: providerIds.smsBackup, port: config.SMS_BACKUP_PROVIDER_PORT },
  { kind: 'email', id: providerIds.emailBackup, port: config.EMAIL_BACKUP_PROVIDER_PORT },
];

// One Event Webhook signing key for both email mocks, as one SendGrid account has one.
const sendGridSigningKey = config.SENDGRID_WEBHOOK_PRIVATE_KEY
  ? sendGridKeyPairFrom(config.SENDGRID_WEBHOOK_PRIVATE_KEY)
  : generateSendGridKeyPair();
if (!config.SENDGRID_WEBHOOK_PRIVATE_KEY)
  log.info(
    { publicKey: sendGridSigningKey.publicKey },
    'SendGrid Event Webhook key generated (SENDGRID_WEBHOOK_PUBLIC_KEY)',
  );

const servers = providers.map((p) =>
  buildProviderServer({
    kind: p.kind,
    providerId: p.id,
    log: log.child({ provider: p.id }),
    callbackBaseUrl: config.HATCH_CALLBACK_BASE_URL,
    // While rotating, WEBHOOK_SECRET is `new,old`: sign with the new one.
    webhookSecret: config.WEBHOOK_SECRET?.split(',')[0]?.trim() || undefined,
    sendGridSigningKey,
    inboundAuth: {
      twilioAccountSid: config.TWILIO_ACCOUNT_SID,
      // While rotating, the command API holds `new,old`: sign with the new one.
      twilioAuthToken: config.TWILIO_AUTH_TOKEN?.split(',')[0]?.trim() || null,
      sendGridInboundSecret: config.SENDGRID_INBOUND_SECRET?.split(',')[0]?.trim() || null,
    },
    faults: {
      error500Rate: config.FAULT_500_RATE,
      error429Rate: config.FAULT_429_RATE,
      retryAfterSeconds: config.FAULT_RETRY_AFTER_SECONDS,
      timeoutRate: config.FAULT_TIMEOUT_RATE,
      slowRate: config.FAULT_SLOW_RATE,
      slowMs: config.FAULT_SLOW_MS,
      idempotency: config.MOCK_IDEMPOTENCY,
      down: false,
    },
    receipts: {
      enabled: config.RECEIPTS_ENABLED,
      delayMs: config.RECEIPT_DELAY_MS,
      duplicateRate: config.RECEIPT_DUPLICATE_RATE,
      outOfOrderRate: config.RECEIPT_OUT_OF_ORDER_RATE,
      outOfOrderDelayMs: config.RECEIPT_OUT_OF_ORDER_DELAY_MS,
      attempts: config.RECEIPT_ATTEMPTS,
    },
  }),
);

await Promise.all(
  servers.map(async (server, i) => {
    const p = providers[i]!;
    const address = await server.app.listen({ host: config.MOCK_PROVIDERS_HOST, port: p.port });
    log.info({ provider: p.id, kind: p.kind, address }, 'mock provider listening');
  }),
);

const shutdown = async () => {
  await Promise.all(servers.map((s) => s.app.close()));
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
