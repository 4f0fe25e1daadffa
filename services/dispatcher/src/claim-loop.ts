// Feeds due messages to dispatchAttempt with bounded concurrency: claims as many as there are free
// slots, wakes on new schedule rows or a finished attempt, and polls for retries falling due.
import { type AttemptResult, type DispatchDeps, dispatchAttempt } from '@hatch/dispatch';
import type { Logger } from '@hatch/platform';
import type pg from 'pg';
import { claimDueMessages } from './schedule-store.ts';

export interface ClaimLoop {
  readonly inFlight: number;
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

  const attempt = async (messageId: string) => {
    try {
      options.onResult?.(await dispatchAttempt(deps, messageId));
    } catch (error) {
      // The lease runs out and another pass retries; nothing is lost.
      options.onError?.(error);
      log.warn({ err: error, messageId }, 'dispatch attempt failed');
    } finally {
      inFlight--;
      wake();
    }
  };

  const done = (async () => {
    while (running) {
      const free = options.concurrency - inFlight;
      if (free <= 0) {
        await sleep(options.pollMs);
        continue;
      }
      let claimed: string[] = [];
      try {
        claimed = await claimDueMessages(pool, now(), options.leaseMs, free);
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
    wake,
    async stop() {
      running = false;
      wake();
      await done;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
