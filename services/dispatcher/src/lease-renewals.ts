// The leases' compare-and-set before each provider call, batched: the renewals asked for in one turn of the
// event loop share one UPDATE (each row still its own compare-and-set on the value this process wrote), so
// hundreds of attempts in flight cost a few statements per millisecond instead of one pool round trip each.
import type pg from 'pg';
import { type LeaseRenewal, leaseRenewalKey, renewLeases } from './schedule-store.ts';

type Waiter = LeaseRenewal & { resolve: (kept: boolean) => void; reject: (error: unknown) => void };

/** Statements in flight at once (leave the pool room for claims and the schedule projection). */
const maxInFlight = 2;
const maxBatch = 1000;

export function batchedLeaseRenewals(pool: pg.Pool): (renewal: LeaseRenewal) => Promise<boolean> {
  let waiting: Waiter[] = [];
  let inFlight = 0;
  let scheduled = false;

  const send = (batch: Waiter[]) => {
    inFlight++;
    renewLeases(pool, batch)
      .then(
        (moved) => {
          for (const w of batch) w.resolve(moved.has(leaseRenewalKey(w.messageId, w.heldUntilMs)));
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        inFlight--;
        pump();
      });
  };

  function pump() {
    while (inFlight < maxInFlight && waiting.length > 0) {
      // One renewal per message per statement: a row is updated once per statement, so a second would be
      // reported as moved by the first one's success.
      const batch: Waiter[] = [];
      const rest: Waiter[] = [];
      const messages = new Set<string>();
      for (const w of waiting) {
        if (batch.length < maxBatch && !messages.has(w.messageId)) {
          messages.add(w.messageId);
          batch.push(w);
        } else rest.push(w);
      }
      waiting = rest;
      send(batch);
    }
  }

  return (renewal) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ ...renewal, resolve, reject });
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        pump();
      });
    });
}
