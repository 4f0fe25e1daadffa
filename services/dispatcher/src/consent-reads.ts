// The dispatcher's consent check, batched: every attempt reads its recipient's consent stream right before
// the provider call (consistent with the log, no projection lag), and the checks that arrive together are
// answered by ONE query instead of one stream read each — at hundreds of attempts in flight that is the
// difference between a round trip per message and a handful per second. Reads committed rows of the
// event store's `events` table in stream order, exactly what `readStream` returns.
import type { ConsentCheck } from '@hatch/dispatch';
import { consentFamilyOf, consentStateFrom, consentStreamId } from '@hatch/domain';
import type pg from 'pg';

type Waiter = { resolve: (events: { type: string; data: unknown }[]) => void; reject: (error: unknown) => void };

export function batchedConsentCheck(pool: pg.Pool): ConsentCheck {
  let pending: Map<string, Waiter[]> | null = null;

  const flush = async (batch: Map<string, Waiter[]>) => {
    try {
      const { rows } = await pool.query<{ stream_id: string; type: string; data: unknown }>(
        `SELECT stream_id, event_type AS type, data FROM events
          WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version`,
        [[...batch.keys()]],
      );
      const byStream = new Map<string, { type: string; data: unknown }[]>();
      for (const row of rows) {
        const list = byStream.get(row.stream_id) ?? [];
        list.push({ type: row.type, data: row.data });
        byStream.set(row.stream_id, list);
      }
      for (const [stream, waiters] of batch) for (const w of waiters) w.resolve(byStream.get(stream) ?? []);
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
    }
  };

  const read = (stream: string) =>
    new Promise<{ type: string; data: unknown }[]>((resolve, reject) => {
      if (!pending) {
        pending = new Map();
        // Whatever asks during this turn of the event loop joins the same query.
        setImmediate(() => {
          const batch = pending as Map<string, Waiter[]>;
          pending = null;
          void flush(batch);
        });
      }
      const waiters = pending.get(stream) ?? [];
      waiters.push({ resolve, reject });
      pending.set(stream, waiters);
    });

  return async (request) => {
    if (request.purpose === 'consent_reply') return false;
    const events = await read(consentStreamId(consentFamilyOf(request.channel), request.from, request.to));
    return consentStateFrom(events).optedOut;
  };
}
