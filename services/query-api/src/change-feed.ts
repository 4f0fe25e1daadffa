// One log tailer per process: it reads each applied log event once (after the watermark, so a client
// that queries on receipt sees the change), turns it into a change that names its account and
// conversation, and hands the batch to every connected stream, which keeps only its own. A stream that
// resumes from before the tailer's position reads the gap for itself (`catchUp`), a few at a time.
import { isMessageEventType, type MessageEvent, messageAccountOf, parseMessageEvent } from '@hatch/domain';
import type { EventStore, RecordedEvent } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import { occurredAt, reportedStatus } from '@hatch/projections';
import type { AccountScope, ReadModel } from './read-model.ts';
import type { LiveChange } from './schemas.ts';
import type { ProjectionWatermark } from './watermark.ts';

/** A change with its owner and its SSE frame (serialised once, written to every stream that wants it). */
export interface FeedChange {
  change: LiveChange;
  /** null: a receipt for a message the read model has not seen; only the unscoped (operator) stream gets it. */
  accountId: string | null;
  frame: string;
}

export interface FeedListener {
  /** A batch in log order; `through` is the last log position it covers (changes or not). */
  deliver(changes: readonly FeedChange[], through: string): void;
}

export interface ChangeFeedDeps {
  store: EventStore;
  readModel: ReadModel;
  watermark: ProjectionWatermark;
  logger: Logger;
  /** Events per log read (default 500). */
  batchSize?: number;
  /** Catch-ups reading the log at once, so resuming clients do not crowd the read pool (default 2). */
  catchUpConcurrency?: number;
}

export const wants = (filter: { account: AccountScope; conversationId?: string }, c: FeedChange) =>
  (filter.account === null || c.accountId === filter.account) &&
  (filter.conversationId === undefined || c.change.conversationId === filter.conversationId);

export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private position: string | null = null;
  private run: { abort: AbortController; started: Promise<void> } | null = null;
  private catchUps = 0;
  private readonly catchUpQueue: (() => void)[] = [];
  private readonly batchSize: number;
  private readonly catchUpConcurrency: number;

  constructor(private readonly deps: ChangeFeedDeps) {
    this.batchSize = deps.batchSize ?? 500;
    this.catchUpConcurrency = deps.catchUpConcurrency ?? 2;
  }

  get size() {
    return this.listeners.size;
  }

  /**
   * Adds a listener; it receives every batch after the returned position (exclusive; null: from the
   * start of the log). The tailer runs while anyone listens and starts at what the read model shows.
   */
  async join(listener: FeedListener): Promise<string | null> {
    for (;;) {
      if (!this.run) {
        const abort = new AbortController();
        const started = this.deps.watermark.current().then((mark) => {
          if (!abort.signal.aborted) this.position = mark;
        });
        this.run = { abort, started };
        void started.then(() => this.tail(abort.signal)).catch(() => this.stop(abort));
      }
      const run = this.run;
      await run.started;
      // Closed meanwhile: join the next tailer instead.
      if (this.run !== run) continue;
      // Read the position and add the listener in one turn: the tailer moves both together, so the
      // listener gets exactly the batches after what it was told.
      this.listeners.add(listener);
      return this.position;
    }
  }

  leave(listener: FeedListener) {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.run) this.stop(this.run.abort);
  }

  close() {
    this.listeners.clear();
    if (this.run) this.stop(this.run.abort);
  }

  /** The changes in (after, through], read from the log in batches; `write` may wait (backpressure). */
  async catchUp(
    after: string | null,
    through: string,
    write: (changes: FeedChange[]) => Promise<void>,
    signal: AbortSignal,
  ) {
    await this.acquireCatchUp();
    try {
      let position = after;
      while (!signal.aborted) {
        const events = await this.deps.store.readAll({ after: position, limit: this.batchSize });
        const inRange = events.filter((e) => e.position <= through);
        if (inRange.length > 0) {
          await write(await toFeedChanges(this.deps.readModel, inRange));
          position = (inRange.at(-1) as RecordedEvent).position;
        }
        if (inRange.length < events.length || events.length < this.batchSize) return;
      }
    } finally {
      this.releaseCatchUp();
    }
  }

  private stop(abort: AbortController) {
    abort.abort();
    if (this.run?.abort === abort) {
      this.run = null;
      this.position = null;
    }
  }

  private async tail(signal: AbortSignal) {
    const { store, watermark, readModel, logger } = this.deps;
    while (!signal.aborted) {
      try {
        const mark = await watermark.waitFor(this.position, { signal });
        if (mark === null || signal.aborted) return;
        const events = await store.readAll({ after: this.position, limit: this.batchSize });
        const applied = events.filter((e) => e.position <= mark);
        if (applied.length === 0 || signal.aborted) continue;
        const changes = await toFeedChanges(readModel, applied);
        // After every wait: a stopped tailer must not touch the state of the next one.
        if (signal.aborted) return;
        const through = (applied.at(-1) as RecordedEvent).position;
        this.position = through;
        for (const listener of [...this.listeners]) listener.deliver(changes, through);
      } catch (error) {
        if (signal.aborted) return;
        // The database away for a moment: keep the streams open and try again.
        logger.warn({ err: error }, 'live change feed: log read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async acquireCatchUp() {
    if (this.catchUps < this.catchUpConcurrency) {
      this.catchUps++;
      return;
    }
    await new Promise<void>((resolve) => this.catchUpQueue.push(resolve));
  }

  private releaseCatchUp() {
    const next = this.catchUpQueue.shift();
    if (next) next();
    else this.catchUps--;
  }
}

/** Log events as changes with their owners: content events carry the account, receipts are looked up. */
export async function toFeedChanges(readModel: ReadModel, recorded: RecordedEvent[]): Promise<FeedChange[]> {
  const parsed: { recorded: RecordedEvent; event: MessageEvent }[] = [];
  for (const r of recorded) {
    if (!isMessageEventType(r.type)) continue;
    try {
      parsed.push({ recorded: r, event: parseMessageEvent(r.type, r.data) });
    } catch {
      // an event the projections skip is not a change either
    }
  }
  const needLookup = parsed
    .filter((p) => p.event.type !== 'MessageRequested' && p.event.type !== 'MessageReceived')
    .map((p) => p.event.data.messageId);
  const owners = await readModel.ownersOf([...new Set(needLookup)]);
  return parsed.map(({ recorded, event }) => {
    const owner =
      event.type === 'MessageRequested' || event.type === 'MessageReceived'
        ? { accountId: messageAccountOf(event.data), conversationId: event.data.conversationId }
        : owners.get(event.data.messageId);
    const change: LiveChange = {
      position: recorded.position,
      type: event.type,
      messageId: event.data.messageId,
      conversationId: owner?.conversationId ?? null,
      status: reportedStatus(event),
      occurredAt: occurredAt(event),
      recordedAt: recorded.recordedAt,
    };
    return {
      change,
      accountId: owner?.accountId ?? null,
      frame: `id: ${change.position}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`,
    };
  });
}
