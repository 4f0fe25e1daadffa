// The providers per channel, primary first, from configuration.
import { EmailProviderClient, type ProviderClient, ProviderDirectory, SmsProviderClient } from '@hatch/dispatch';
import type { Channel } from '@hatch/domain';
import { providerIds } from '@hatch/vocabulary';
import type { DispatcherConfig } from './config.ts';

export { providerIds } from '@hatch/vocabulary';

export function providerDirectory(
  config: DispatcherConfig,
  hooks: ConstructorParameters<typeof ProviderDirectory>[2]['hooks'],
): ProviderDirectory {
  const http = { timeoutMs: config.PROVIDER_TIMEOUT_MS, maxSockets: config.PROVIDER_MAX_IN_FLIGHT };
  const clients: ProviderClient[] = [
    new SmsProviderClient({ id: providerIds.sms, baseUrl: config.SMS_PROVIDER_URL, ...http }),
    new EmailProviderClient({ id: providerIds.email, baseUrl: config.EMAIL_PROVIDER_URL, ...http }),
  ];
  const sms: string[] = [providerIds.sms];
  const email: string[] = [providerIds.email];
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
