// How far the read model has got: the lowest checkpoint of the read-model projections (every table
// reflects every log event up to it). Read-your-writes and the live stream wait on it. One shared poll
// runs only while someone waits.
import { type ReadPool, readModelCheckpointIds } from '@hatch/projections';
import { sql } from 'slonik';
import { z } from 'zod';

const watermarkRow = z.object({ position: z.string().nullable(), n: z.number().int() });

export class ProjectionWatermark {
  private waiters = new Set<{ after: string | null; resolve: (position: string) => void }>();
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private reading: Promise<string | null> | null = null;

  constructor(
    private readonly db: ReadPool,
    private readonly pollMs = 50,
    private readonly checkpointIds: readonly string[] = readModelCheckpointIds,
  ) {}

  /**
   * The position every read-model table has reached (null: nothing projected yet). Callers while a read
   * is in flight share it: its answer was true when it was read, and the tables only move forward, so a
   * listing read after it reflects at least that position (as with a read of its own, which also
   * precedes the listing's). Under load that is one checkpoint query per round trip, not per request.
   */
  current(): Promise<string | null> {
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<string | null> {
    const row = await this.db.one(
      sql.type(watermarkRow)`SELECT min(position) AS position, count(*)::int AS n FROM subscription_checkpoints
        WHERE subscription_id = ANY(${sql.array([...this.checkpointIds], 'text')})`,
    );
    this.last = row.n === this.checkpointIds.length ? row.position : null;
    return this.last;
  }

  /** Resolves with the watermark once it is past `after` (at or past, when `inclusive`), or null on timeout/abort. */
  async waitFor(
    after: string | null,
    options: { inclusive?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<string | null> {
    const reached = (p: string | null) =>
      p !== null && (after === null || (options.inclusive ? p >= after : p > after));
    let now = await this.current();
    // A shared read may have started before the caller's write was projected: one read of its own first.
    if (!reached(now)) now = await this.current();
    if (reached(now)) return now;
    return new Promise((resolve) => {
      const waiter = {
        after,
        resolve: (position: string) => {
          if (!reached(position)) return;
          finish(position);
        },
      };
      const finish = (position: string | null) => {
        clearTimeout(timeout);
        options.signal?.removeEventListener('abort', abort);
        this.waiters.delete(waiter);
        resolve(position);
      };
      const abort = () => finish(null);
      const timeout = options.timeoutMs === undefined ? undefined : setTimeout(() => finish(null), options.timeoutMs);
      options.signal?.addEventListener('abort', abort);
      if (options.signal?.aborted) return finish(null);
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  private schedule() {
    if (this.timer || this.waiters.size === 0) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      const position = await this.current().catch(() => null);
      if (position !== null) for (const w of [...this.waiters]) w.resolve(position);
      this.schedule();
    }, this.pollMs);
  }

  close() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
