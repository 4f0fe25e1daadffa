// Feeds due messages to dispatchAttempt with bounded concurrency. Fresh requests come straight from
// the schedule projection (already leased, event in hand) into a bounded local backlog; everything
// else (retries falling due, lapsed leases, what the backlog had no room for) is claimed from the table.
import { type AttemptResult, type DispatchDeps, dispatchAttempt } from '@hatch/dispatch';
import type { RecordedEvent } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { claimDueMessages, releaseLease } from './schedule-store.ts';

export interface ClaimLoop {
  readonly inFlight: number;
  /** Room for fresh requests: free attempt slots plus free backlog places. */
  readonly freeSlots: number;
  /** Queues fresh requests the schedule projection already leased to this process. */
  submit(requests: RecordedEvent[]): void;
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
  log: Logger;
  onResult?: (result: AttemptResult) => void;
  onError?: (error: unknown) => void;
}): ClaimLoop {
  const { pool, deps, log } = options;
  const now = deps.now ?? Date.now;
  // Lapsed leases are rare (a crashed or hung dispatcher): look for them a few times per lease.
  const lapsedScanMs = Math.max(options.pollMs, Math.min(1000, options.leaseMs / 4));
  let running = true;
  let inFlight = 0;
  const queued: Array<{ event: RecordedEvent; leasedUntil: number }> = [];
  const claimedQueue: Array<{ messageId: string; leasedUntil: number }> = [];
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

  const attempt = async (messageId: string, knownStream?: RecordedEvent[]) => {
    try {
      const result = await dispatchAttempt(deps, messageId, knownStream);
      // Lost to another writer: give it straight back so the next pass reads the stream.
      if (result.outcome === 'lost_race') await releaseLease(pool, messageId);
      options.onResult?.(result);
    } catch (error) {
      // The lease runs out and another pass retries; nothing is lost.
      options.onError?.(error);
      log.warn({ err: error, messageId }, 'dispatch attempt failed');
    } finally {
      inFlight--;
      pump();
      if (full) wake();
    }
  };

  /**
   * Starts queued work while slots are free: claimed messages (due retries, lapsed leases) first, so a
   * steady stream of fresh requests cannot starve them; one whose lease is running out is left to a claim.
   */
  const pump = () => {
    while (inFlight < options.concurrency) {
      const next = claimedQueue.shift() ?? queued.shift();
      if (!next) return;
      if (next.leasedUntil - options.leaseMs / 4 < now()) continue;
      inFlight++;
      if ('event' in next) void attempt((next.event.data as { messageId: string }).messageId, [next.event]);
      else void attempt(next.messageId);
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
      let claimed: string[] = [];
      try {
        claimed = await claimDueMessages(pool, now(), options.leaseMs, free);
        if (claimed.length < free && now() - lastLapsedScan >= lapsedScanMs) {
          lastLapsedScan = now();
          claimed.push(...(await claimDueMessages(pool, now(), options.leaseMs, free - claimed.length, true)));
        }
      } catch (error) {
        log.warn({ err: error }, 'claiming due messages failed');
        await sleep(options.pollMs);
        continue;
      }
      const leasedUntil = now() + options.leaseMs;
      for (const messageId of claimed) claimedQueue.push({ messageId, leasedUntil });
      pump();
      // A full claim means more may be waiting: go again as soon as a slot frees up.
      if (claimed.length < free) await sleep(options.pollMs);
    }
  })();

  return {
    get inFlight() {
      return inFlight;
    },
    get freeSlots() {
      return Math.max(0, options.concurrency + options.backlog - inFlight - queued.length);
    },
    submit(requests) {
      const leasedUntil = now() + options.leaseMs;
      for (const event of requests) queued.push({ event, leasedUntil });
      pump();
    },
    wake,
    async stop() {
      running = false;
      wake();
      await done;
      queued.length = 0;
      claimedQueue.length = 0; // still leased: another pass or dispatcher takes them when the leases lapse
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
