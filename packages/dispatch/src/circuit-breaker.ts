// One breaker per provider: after `failureThreshold` consecutive failures it opens and refuses calls
// for `cooldownMs`; then it lets `halfOpenProbes` calls through; a success closes it, a failure reopens it.
// Consecutive failures (not a rate) so a provider with random 30% errors is not declared down.

import type { BreakerState } from '@hatch/vocabulary';

export type { BreakerState } from '@hatch/vocabulary';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  halfOpenProbes: number;
}

export const defaultBreakerOptions: BreakerOptions = { failureThreshold: 10, cooldownMs: 5_000, halfOpenProbes: 1 };

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt: number | null = null;
  private probesInFlight = 0;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (state: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.options.cooldownMs ? 'half_open' : 'open';
  }

  /** When an open breaker lets a probe through again (ms epoch), or null when closed. */
  get reopensAt(): number | null {
    return this.openedAt === null ? null : this.openedAt + this.options.cooldownMs;
  }

  /**
   * Takes permission for one call: null when refused, else a ticket to hand back to `record`.
   * In half-open only a few probes go through at a time.
   */
  tryAcquire(): { probe: boolean } | null {
    const state = this.state;
    if (state === 'closed') return { probe: false };
    if (state === 'open') return null;
    if (this.probesInFlight >= this.options.halfOpenProbes) return null;
    this.probesInFlight++;
    return { probe: true };
  }

  record(ticket: { probe: boolean }, signal: 'success' | 'failure' | 'neutral'): void {
    if (ticket.probe) this.probesInFlight--;
    if (signal === 'neutral') return;
    if (signal === 'success') {
      this.consecutiveFailures = 0;
      if (this.openedAt !== null && ticket.probe) this.transition(null);
      return;
    }
    this.consecutiveFailures++;
    if (ticket.probe) this.transition(this.now());
    else if (this.openedAt === null && this.consecutiveFailures >= this.options.failureThreshold) {
      this.transition(this.now());
    }
  }

  private transition(openedAt: number | null) {
    const before = this.state;
    this.openedAt = openedAt;
    if (openedAt === null) this.consecutiveFailures = 0;
    const after = this.state;
    if (before !== after) this.onChange?.(after);
  }
}
