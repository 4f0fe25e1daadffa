// Provider ids as they appear on events (`provider`), metrics labels and the operations view.

export const providerIds = {
  sms: 'messaging-provider',
  smsBackup: 'messaging-provider-backup',
  email: 'xillio',
  emailBackup: 'xillio-backup',
  /** The real protocols (SMS_PROVIDER=twilio, EMAIL_PROVIDER=sendgrid), against the services or the mocks. */
  twilio: 'twilio',
  sendgrid: 'sendgrid',
} as const;
export type ProviderId = (typeof providerIds)[keyof typeof providerIds];

/** A provider's circuit breaker, as the dispatcher reports it. */
export const breakerStates = ['closed', 'half_open', 'open'] as const;
export type BreakerState = (typeof breakerStates)[number];
