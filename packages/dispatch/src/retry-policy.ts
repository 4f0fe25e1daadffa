// When to try again: honour the provider's Retry-After, else exponential backoff with full jitter
// (a random delay in [0, min(cap, base * 2^(n-1))]) so retries of many messages spread out.

export interface RetryPolicy {
  /** Attempts on one provider before failing over to the next one in the channel's order. */
  maxAttemptsPerProvider: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long since the request, the message fails instead of retrying. */
  deadlineMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttemptsPerProvider: 4,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  deadlineMs: 60 * 60_000,
};

/** `failures`: failed attempts on this provider so far, including the one just made (>= 1). */
export function backoffDelayMs(failures: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/** Retry-After is either delta seconds or an HTTP date. Returns milliseconds from `nowMs`, or null. */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
