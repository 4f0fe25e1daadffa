// The providers per channel, primary first, from configuration.
import {
  EmailProviderClient,
  type ProviderClient,
  ProviderDirectory,
  SendGridClient,
  SmsProviderClient,
  TwilioClient,
} from '@hatch/dispatch';
import type { Channel } from '@hatch/domain';
import { providerIds } from '@hatch/vocabulary';
import type { DispatcherConfig } from './config.ts';

export { providerIds } from '@hatch/vocabulary';

export function providerDirectory(
  config: DispatcherConfig,
  hooks: ConstructorParameters<typeof ProviderDirectory>[2]['hooks'],
): ProviderDirectory {
  const http = { timeoutMs: config.PROVIDER_TIMEOUT_MS, maxSockets: config.PROVIDER_MAX_IN_FLIGHT };
  const smsPrimary = primarySms(config, http);
  const emailPrimary = primaryEmail(config, http);
  const clients: ProviderClient[] = [smsPrimary, emailPrimary];
  const sms: string[] = [smsPrimary.id];
  const email: string[] = [emailPrimary.id];
  if (config.SMS_BACKUP_PROVIDER_URL) {
    clients.push(
      new SmsProviderClient({ id: providerIds.smsBackup, baseUrl: config.SMS_BACKUP_PROVIDER_URL, ...http }),
    );
    sms.push(providerIds.smsBackup);
  }
  if (config.EMAIL_BACKUP_PROVIDER_URL) {
    clients.push(
      new EmailProviderClient({ id: providerIds.emailBackup, baseUrl: config.EMAIL_BACKUP_PROVIDER_URL, ...http }),
    );
    email.push(providerIds.emailBackup);
  }
  const routes: Record<Channel, readonly string[]> = { sms, mms: sms, email };
  return new ProviderDirectory(routes, clients, {
    breaker: {
      failureThreshold: config.BREAKER_FAILURE_THRESHOLD,
      cooldownMs: config.BREAKER_COOLDOWN_MS,
      halfOpenProbes: config.BREAKER_HALF_OPEN_PROBES,
    },
    maxInFlightPerProvider: config.PROVIDER_MAX_IN_FLIGHT,
    hooks,
  });
}

type HttpSettings = { timeoutMs: number; maxSockets: number };

function primarySms(config: DispatcherConfig, http: HttpSettings): ProviderClient {
  if (config.SMS_PROVIDER === 'scaffold')
    return new SmsProviderClient({ id: providerIds.sms, baseUrl: config.SMS_PROVIDER_URL, ...http });
  const callback =
    config.TWILIO_STATUS_CALLBACK_URL ??
    (config.PUBLIC_BASE_URL ? new URL('/api/webhooks/twilio/status', config.PUBLIC_BASE_URL).toString() : null);
  return new TwilioClient({
    id: providerIds.twilio,
    baseUrl: config.TWILIO_BASE_URL,
    // The config schema refuses SMS_PROVIDER=twilio without them.
    accountSid: config.TWILIO_ACCOUNT_SID ?? '',
    authToken: config.TWILIO_AUTH_TOKEN ?? '',
    statusCallbackUrl: callback,
    ...http,
  });
}

function primaryEmail(config: DispatcherConfig, http: HttpSettings): ProviderClient {
  if (config.EMAIL_PROVIDER === 'scaffold')
    return new EmailProviderClient({ id: providerIds.email, baseUrl: config.EMAIL_PROVIDER_URL, ...http });
  return new SendGridClient({
    id: providerIds.sendgrid,
    baseUrl: config.SENDGRID_BASE_URL,
    apiKey: config.SENDGRID_API_KEY ?? '',
    ...http,
  });
}
