// When a failed delivery is tried again: a fixed schedule of growing delays (Standard Webhooks practice:
// about a day in all), each spread by jitter so endpoints recovering together are not hit at one instant.
import { z } from 'zod';

/** The issue's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (≈ 27.5 h after the first attempt). */
export const defaultRetrySchedule = '5s,5m,30m,2h,5h,10h,10h';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `5s,5m,30m` → delays in ms; for the environment (tests run the schedule in milliseconds). */
export const retryScheduleSchema = z.string().transform((raw, ctx) => {
  const delays: number[] = [];
  for (const part of raw.split(',').map((p) => p.trim())) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not a delay like 500ms, 5s, 5m or 2h` });
      return z.NEVER;
    }
    delays.push(Number(match[1]) * (units[match[2] as string] as number));
  }
  return delays;
});

/**
 * The delay before attempt `attempt + 1` after `attempt` failed, or null when the schedule is used up.
 * Jitter: ±`jitter` of the delay (0.1 = ±10 %).
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  attempt: number,
  random: () => number = Math.random,
  jitter = 0.1,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}
