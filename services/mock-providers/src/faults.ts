// Fault injection: what a provider does with one send instead of accepting it. Random faults come
// from shares set in env or by POST /admin/faults; magic recipients force an outcome deterministically.
import { z } from 'zod';

export const faultSettingsSchema = z.object({
  /** Share of sends answered 500. */
  error500Rate: z.number().min(0).max(1).default(0),
  /** Share of sends answered 429 with Retry-After. */
  error429Rate: z.number().min(0).max(1).default(0),
  retryAfterSeconds: z.number().int().min(0).default(1),
  /** Share of sends accepted and stored but never answered (the caller times out). */
  timeoutRate: z.number().min(0).max(1).default(0),
  /** Share of sends answered only after `slowMs`. */
  slowRate: z.number().min(0).max(1).default(0),
  slowMs: z.number().int().min(0).default(2000),
  /** The provider is down: every connection is reset. */
  down: z.boolean().default(false),
  /**
   * Honour the Idempotency-Key header (a repeat gets the first answer). Off: like real Twilio and SendGrid,
   * which ignore it, every send is a new message.
   */
  idempotency: z.boolean().default(true),
});
export type FaultSettings = z.infer<typeof faultSettingsSchema>;

export type ForcedOutcome = 'error500' | 'error429' | 'reject' | 'undelivered' | 'no_receipt';

/** Phones for SMS/MMS, email local parts (any domain) for email. */
export const magicRecipients: Record<string, ForcedOutcome> = {
  '+12015550500': 'error500',
  '+12015550429': 'error429',
  '+12015550400': 'reject',
  '+12015550410': 'undelivered',
  '+12015550411': 'no_receipt',
  'always-500': 'error500',
  'always-429': 'error429',
  reject: 'reject',
  bounce: 'undelivered',
  blackhole: 'no_receipt',
};

export function forcedOutcome(recipient: string): ForcedOutcome | null {
  const key = recipient.includes('@') ? (recipient.split('@')[0] ?? '').toLowerCase() : recipient;
  return magicRecipients[key] ?? null;
}

export type SendFault = 'error500' | 'error429' | 'timeout' | 'slow' | null;

/** Draws at most one random fault for a send; one draw so the shares add up as configured. */
export function drawFault(settings: FaultSettings, random: () => number): SendFault {
  const r = random();
  let edge = settings.error500Rate;
  if (r < edge) return 'error500';
  edge += settings.error429Rate;
  if (r < edge) return 'error429';
  edge += settings.timeoutRate;
  if (r < edge) return 'timeout';
  edge += settings.slowRate;
  if (r < edge) return 'slow';
  return null;
}
