// Sends claimed shortly before they fall due (scheduled sends, retries), held in due order with one timer
// armed for the earliest: each is released at its due time, not at the next poll. Never early: a timer
// that fires before the earliest due time is armed again. The timer fires on `tickMs` boundaries, so the
// sends due within one tick start together (their consent reads and appends share batches) at most one
// tick late.
import type { RecordedEvent } from '@hatch/event-store';

export interface UpcomingSend {
  messageId: string;
  dueAtMs: number;
  /** The exact lease value this process wrote (compare-and-set on renewal and release). */
  leasedUntil: number;
  /** The message's stream as read when it was claimed; an attempt that finds it moved on loses its append. */
  stream?: RecordedEvent[];
}

export interface UpcomingSends {
  readonly size: number;
  hold(sends: UpcomingSend[]): void;
  /** Empties the queue without releasing anything (the caller gives the leases back). */
  drain(): UpcomingSend[];
}

export function holdUpcomingSends(options: {
  now: () => number;
  /** Due times are rounded up to this (ms). Default 10. */
  tickMs?: number;
  /** Called with the sends whose due time has come, oldest first. */
  onDue: (sends: UpcomingSend[]) => void;
}): UpcomingSends {
  // Sorted by due time; claims arrive in due order, so an insert is nearly always an append.
  const held: UpcomingSend[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let armedFor = Number.POSITIVE_INFINITY;
  const tick = Math.max(1, options.tickMs ?? 10);

  const insert = (send: UpcomingSend) => {
    let i = held.length;
    while (i > 0 && (held[i - 1] as UpcomingSend).dueAtMs > send.dueAtMs) i--;
    held.splice(i, 0, send);
  };

  const arm = () => {
    const next = held[0];
    if (!next) return;
    const fireAt = Math.ceil(next.dueAtMs / tick) * tick;
    if (timer && armedFor <= fireAt) return;
    if (timer) clearTimeout(timer);
    armedFor = fireAt;
    timer = setTimeout(fire, Math.max(0, fireAt - options.now()));
  };

  function fire() {
    timer = null;
    armedFor = Number.POSITIVE_INFINITY;
    const at = options.now();
    let n = 0;
    while (n < held.length && (held[n] as UpcomingSend).dueAtMs <= at) n++;
    if (n > 0) options.onDue(held.splice(0, n));
    arm();
  }

  return {
    get size() {
      return held.length;
    },
    hold(sends) {
      for (const send of sends) insert(send);
      arm();
    },
    drain() {
      if (timer) clearTimeout(timer);
      timer = null;
      armedFor = Number.POSITIVE_INFINITY;
      return held.splice(0, held.length);
    },
  };
}
