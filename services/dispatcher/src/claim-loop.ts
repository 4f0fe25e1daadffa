// Feeds due messages to dispatchAttempt with bounded concurrency. Fresh requests come straight from
// the schedule projection (already leased, event in hand) into a bounded local backlog; everything
// else (scheduled sends and retries falling due, lapsed leases, what the backlog had no room for) is
// claimed from the table, streams read in one query per claim. Sends falling due within `aheadMs` are
// claimed ahead and released by a timer at their due time (upcoming-sends.ts), so polling adds no delay.
import { type AttemptLease, type AttemptResult, type DispatchDeps, dispatchAttempt } from '@hatch/dispatch';
import { messageStreamId } from '@hatch/domain';
import type { RecordedEvent } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { batchedLeaseRenewals } from './lease-renewals.ts';
import { claimDueMessages, releaseLease, releaseUnstartedLeases } from './schedule-store.ts';
import { holdUpcomingSends } from './upcoming-sends.ts';

export interface ClaimLoop {
  readonly inFlight: number;
  /** Room for fresh requests: free attempt slots plus free backlog places. */
  readonly freeSlots: number;
  /** Queues fresh requests the schedule projection already leased to this process (until `leasedUntilMs`). */
  submit(requests: RecordedEvent[], leasedUntilMs: number): void;
  wake(): void;
  stop(): Promise<void>;
}

export function startClaimLoop(options: {
  pool: pg.Pool;
  deps: DispatchDeps;
  concurrency: number;
  /** Fresh requests held locally while every attempt slot is busy. */
  backlog: number;
  leaseMs: number;
  pollMs: number;
  /** Sends due within this long are claimed ahead (at most `backlog` of them) and started at their due time. */
  aheadMs: number;
  log: Logger;
  onResult?: (result: AttemptResult) => void;
  onError?: (error: unknown) => void;
}): ClaimLoop {
  const { pool, deps, log } = options;
  const now = deps.now ?? Date.now;
  const renewLease = batchedLeaseRenewals(pool);
  // Lapsed leases are rare (a crashed or hung dispatcher): look for them a few times per lease.
  const lapsedScanMs = Math.max(options.pollMs, Math.min(1000, options.leaseMs / 4));
  let running = true;
  let inFlight = 0;
  const queued: Array<{ event: RecordedEvent; leasedUntil: number }> = [];
  /** `lapsed`: taken over from a dispatcher whose lease ran out, which may have called a provider. */
  const claimedQueue: Array<{ messageId: string; leasedUntil: number; lapsed: boolean; stream?: RecordedEvent[] }> = [];
  const upcoming = holdUpcomingSends({
    now,
    onDue: (sends) => {
      for (const send of sends) claimedQueue.push({ ...send, lapsed: false });
      pump();
    },
  });
  // Claims may always take a quarter of the slots, however busy fresh traffic keeps them.
  const claimShare = Math.ceil(options.concurrency / 4);
  let wakeUp: (() => void) | null = null;
  // A wake-up that arrives while a claim is running must not be lost.
  let woken = false;
  const wake = () => {
    woken = true;
    const w = wakeUp;
    wakeUp = null;
    w?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        wakeUp = null;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        woken = false;
        resolve();
      };
    });

  const attempt = async (
    messageId: string,
    leasedUntil: number,
    extra: { knownStream?: RecordedEvent[]; afterLapsedLease?: boolean },
  ) => {
    const lease = attemptLease(messageId, leasedUntil);
    try {
      const result = await dispatchAttempt(deps, messageId, { ...extra, lease });
      // Lost to another writer: give it straight back so the next pass reads the stream.
      if (result.outcome === 'lost_race') await releaseLease(pool, messageId);
      options.onResult?.(result);
    } catch (error) {
      // The lease runs out and another pass retries; nothing is lost.
      options.onError?.(error);
      log.warn({ err: error, messageId }, 'dispatch attempt failed');
    } finally {
      lease.stop();
      inFlight--;
      pump();
      if (full) wake();
    }
  };

  /**
   * The schedule lease of one attempt. It is taken again (compare-and-set on the value this process wrote)
   * when the provider call starts, inside the provider's slot, unless it was written moments ago; then it is
   * renewed every third of its length until the attempt ends, so a slow call keeps it.
   */
  const attemptLease = (messageId: string, leasedUntil: number): AttemptLease & { stop(): void } => {
    let held = leasedUntil;
    let timer: ReturnType<typeof setInterval> | null = null;
    const renew = async () => {
      const until = now() + options.leaseMs;
      if (!(await renewLease({ messageId, heldUntilMs: held, untilMs: until }))) return false;
      held = until;
      return true;
    };
    const stop = () => {
      if (timer) clearInterval(timer);
      timer = null;
    };
    return {
      async take() {
        if (held - now() < (options.leaseMs * 3) / 4 && !(await renew())) return false;
        timer = setInterval(() => {
          renew()
            .then((kept) => {
              if (!kept) stop();
            })
            .catch((error: unknown) => log.warn({ err: error, messageId }, 'renewing a dispatch lease failed'));
        }, options.leaseMs / 3);
        return true;
      },
      stop,
    };
  };

  /**
   * Starts queued work while slots are free: claimed messages (due retries, lapsed leases) first, so a
   * steady stream of fresh requests cannot starve them. A lease that ran out while queued is harmless: the
   * attempt takes it again before calling, and ends without a call when another dispatcher has it.
   */
  const pump = () => {
    while (inFlight < options.concurrency) {
      const next = claimedQueue.shift() ?? queued.shift();
      if (!next) return;
      inFlight++;
      if ('event' in next)
        void attempt((next.event.data as { messageId: string }).messageId, next.leasedUntil, {
          knownStream: [next.event],
        });
      else
        void attempt(next.messageId, next.leasedUntil, {
          afterLapsedLease: next.lapsed,
          ...(next.stream ? { knownStream: next.stream } : {}),
        });
    }
  };

  /**
   * The claimed messages' streams in one query instead of one read per attempt. A stream that moves on
   * before the attempt (a cancel, another outcome) makes its expected-version append lose: nothing is sent.
   */
  const withStreams = async (
    claims: { messageId: string; dueAtMs: number }[],
  ): Promise<Array<{ messageId: string; dueAtMs: number; stream?: RecordedEvent[] }>> => {
    if (claims.length === 0) return claims;
    try {
      const streams = await deps.store.readStreams(claims.map((c) => messageStreamId(c.messageId)));
      return claims.map((c) => {
        const stream = streams.get(messageStreamId(c.messageId));
        return stream && stream.length > 0 ? { ...c, stream } : c;
      });
    } catch (error) {
      // Each attempt reads its own stream instead.
      log.warn({ err: error }, 'reading claimed streams failed');
      return claims;
    }
  };

  // Whether the loop is waiting for room (only then does a finished attempt wake it).
  let full = false;
  let lastLapsedScan = 0;
  const done = (async () => {
    while (running) {
      const free = Math.max(options.concurrency - inFlight, claimShare) - claimedQueue.length;
      full = free <= 0;
      if (full) {
        await sleep(options.pollMs);
        continue;
      }
      let claimed = 0;
      try {
        const at = now();
        const waiting = await withStreams(await claimDueMessages(pool, at, options.leaseMs, free));
        for (const { messageId, stream } of waiting)
          claimedQueue.push({
            messageId,
            leasedUntil: at + options.leaseMs,
            lapsed: false,
            ...(stream ? { stream } : {}),
          });
        claimed = waiting.length;
        if (claimed < free && now() - lastLapsedScan >= lapsedScanMs) {
          const scanAt = now();
          lastLapsedScan = scanAt;
          const lapsed = await claimDueMessages(pool, scanAt, options.leaseMs, free - claimed, { expired: true });
          for (const { messageId } of lapsed)
            claimedQueue.push({ messageId, leasedUntil: scanAt + options.leaseMs, lapsed: true });
          claimed += lapsed.length;
        }
        // Nothing due is left waiting: claim what falls due next, so it starts at its due time.
        const room = options.backlog - upcoming.size;
        if (claimed < free && options.aheadMs > 0 && room > 0) {
          const aheadAt = now();
          const soon = await claimDueMessages(pool, aheadAt, options.leaseMs, room, { aheadMs: options.aheadMs });
          upcoming.hold((await withStreams(soon)).map((s) => ({ ...s, leasedUntil: aheadAt + options.leaseMs })));
        }
      } catch (error) {
        log.warn({ err: error }, 'claiming due messages failed');
        await sleep(options.pollMs);
        continue;
      }
      pump();
      // A full claim means more may be waiting: go again as soon as a slot frees up.
      if (claimed < free) await sleep(options.pollMs);
    }
  })();

  return {
    get inFlight() {
      return inFlight;
    },
    get freeSlots() {
      return Math.max(0, options.concurrency + options.backlog - inFlight - queued.length);
    },
    submit(requests, leasedUntil) {
      for (const event of requests) queued.push({ event, leasedUntil });
      pump();
    },
    wake,
    async stop() {
      running = false;
      wake();
      await done;
      // Never started: give the leases back so another dispatcher takes them now, not when they lapse.
      const unstarted: Array<{ messageId: string; leasedUntil: number }> = [
        ...upcoming.drain(),
        ...claimedQueue.splice(0, claimedQueue.length),
        ...queued.splice(0, queued.length).map((q) => ({
          messageId: (q.event.data as { messageId: string }).messageId,
          leasedUntil: q.leasedUntil,
        })),
      ];
      await releaseUnstartedLeases(pool, unstarted).catch((error: unknown) =>
        log.warn({ err: error }, 'giving back unstarted leases failed; they lapse instead'),
      );
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
