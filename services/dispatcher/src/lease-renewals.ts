// The leases' compare-and-set before each provider call, batched: the renewals asked for in one turn of the
// event loop share one UPDATE (each row still its own compare-and-set on the value this process wrote), so
// hundreds of attempts in flight cost a few statements per millisecond instead of one pool round trip each.
import { batchPerTurn } from '@hatch/platform';
import type pg from 'pg';
import { type LeaseRenewal, leaseRenewalKey, renewLeases } from './schedule-store.ts';

export function batchedLeaseRenewals(pool: pg.Pool): (renewal: LeaseRenewal) => Promise<boolean> {
  return batchPerTurn<LeaseRenewal, boolean>({
    run: async (renewals) => {
      const moved = await renewLeases(pool, renewals);
      return (renewal) => moved.has(leaseRenewalKey(renewal.messageId, renewal.heldUntilMs));
    },
    key: (renewal) => renewal.messageId,
    // A row is updated once per statement: a second renewal of one message would be reported as moved by
    // the first one's success, so it waits for the next statement.
    sameKey: 'next',
    // Leave the pool room for claims and the schedule projection.
    maxInFlight: 2,
    maxBatch: 1000,
  });
}
