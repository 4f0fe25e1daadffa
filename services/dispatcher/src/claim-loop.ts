// Feeds due messages to dispatchAttempt with bounded concurrency: claims as many as there are free
// slots, wakes on new schedule rows or a finished attempt, and polls for retries falling due.
import { type AttemptResult, type DispatchDeps, dispatchAttempt } from '@hatch/dispatch';
import type { RecordedEvent } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { claimDueMessages, releaseLease } from './schedule-store.ts';

export interface ClaimLoop {
  readonly inFlight: number;
  readonly freeSlots: number;
  /** Dispatches fresh requests the schedule projection already leased to this process. */
  submit(requests: RecordedEvent[]): void;
  wake(): void;
  stop(): Promise<void>;
}

export function startClaimLoop(options: {
  pool: pg.Pool;
  deps: DispatchDeps;
  concurrency: number;
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
      if (full) wake();
    }
  };

  // Whether the loop is waiting for a free slot (only then does a finished attempt wake it).
  let full = false;
  let lastLapsedScan = 0;
  const done = (async () => {
    while (running) {
      const free = options.concurrency - inFlight;
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
      for (const id of claimed) {
        inFlight++;
        void attempt(id);
      }
      // A full claim means more may be waiting: go again as soon as a slot frees up.
      if (claimed.length < free) await sleep(options.pollMs);
    }
  })();

  return {
    get inFlight() {
      return inFlight;
    },
    get freeSlots() {
      return Math.max(0, options.concurrency - inFlight);
    },
    submit(requests) {
      for (const event of requests) {
        inFlight++;
        void attempt((event.data as { messageId: string }).messageId, [event]);
      }
    },
    wake,
    async stop() {
      running = false;
      wake();
      await done;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
