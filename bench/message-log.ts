// A log of mixed message lifecycles (the workload's `messageLifecycle`: sends delivered / undelivered /
// retried / failed, inbound messages, duplicate and early receipts), bulk-inserted straight into the events
// table in chunks of whole lifecycles: fast enough to seed a million events in well under a minute. Shared
// by `bin/bench project` (which measures the projector on it) and `bin/bench query` (which reads the read
// model the projector builds from it).
import { messageLifecycle } from '@hatch/projections/workload';
import type pg from 'pg';

export interface MessageLogOptions {
  /** Stop once at least this many events are in the log (a lifecycle is 1–5 events, ≈3.2 on average). */
  events: number;
  /** Distinct contacts; with 20,000 (a multiple of 10) each contact has one channel: 20,000 conversations. */
  contacts: number;
  seed?: string;
  progress?: (generated: number) => void;
}

const messagesPerChunk = 4000;

/** Appends the log; returns how many events and messages it holds. */
export async function generateMessageLog(pool: pg.Pool, options: MessageLogOptions) {
  const lifecycle = { messages: 0, contacts: options.contacts, seed: options.seed ?? 'bench' };
  // Each chunk one INSERT, its events in round order, so a message's receipts follow its request,
  // interleaved with other messages' events as in production.
  async function insertChunk(from: number, count: number) {
    const rounds: { stream: string; id: string; type: string; data: string; metadata: string }[][] = [];
    for (let i = from; i < from + count; i++) {
      for (const { round, append } of messageLifecycle(i, lifecycle)) {
        rounds[round] ??= [];
        rounds[round].push({
          stream: append.streamId,
          id: append.event.id,
          type: append.event.type,
          data: JSON.stringify(append.event.data),
          metadata: JSON.stringify(append.event.metadata),
        });
      }
    }
    const rows = rounds.flat();
    const versions = new Map<string, number>();
    const version = rows.map((r) => {
      const v = versions.get(r.stream) ?? 0;
      versions.set(r.stream, v + 1);
      return v;
    });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO events (stream_id, stream_version, category, event_id, event_type, data, metadata)
         SELECT s, v, 'message', id, t, d, m
           FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
                WITH ORDINALITY AS x(s, v, id, t, d, m, ord)
          ORDER BY ord`,
        [
          rows.map((r) => r.stream),
          version,
          rows.map((r) => r.id),
          rows.map((r) => r.type),
          rows.map((r) => r.data),
          rows.map((r) => r.metadata),
        ],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    return rows.length;
  }
  let events = 0;
  let messages = 0;
  while (events < options.events) {
    // Two chunks in flight: generation in JS overlaps the previous INSERT.
    const estimate = Math.max(1, Math.ceil((options.events - events) / 3.2));
    const a = Math.min(messagesPerChunk, estimate);
    const first = insertChunk(messages, a);
    messages += a;
    const b = Math.min(messagesPerChunk, Math.max(0, estimate - a));
    const second = b > 0 ? insertChunk(messages, b) : Promise.resolve(0);
    messages += b;
    events += (await first) + (await second);
    options.progress?.(events);
  }
  return { events, messages };
}
