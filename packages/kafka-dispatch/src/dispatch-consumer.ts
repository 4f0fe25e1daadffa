// Dispatchers in one consumer group share the dispatch topic's partitions. Each record hands its
// message id to `dispatchMessage`; an offset is committed only after the callback resolved for it and
// every record before it in the partition, so a dispatcher that dies hands its uncommitted records to
// the next owner (at-least-once; the dispatcher is idempotent through expected stream versions).
//
// A record whose `dueAt` lies ahead (the relay publishes work about when it is due, so this is a short
// wait) waits on a timer while later records of the partition go on; the commit stops below it until it
// ran (see ./partition-progress.ts). `not_due` from the dispatcher is unfinished work, never a commit: the
// record is looked at again later. Timers are capped, so none overflows (setTimeout fires at once past
// ~24.8 days) and fires early.
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { type DispatchRecord, decodeDispatchRecord } from './dispatch-record.ts';
import { type DispatchLogger, silentLogger } from './logger.ts';
import { OffsetCommits } from './offset-commits.ts';
import { PartitionProgress } from './partition-progress.ts';

/**
 * What the dispatcher provides: attempt (or finish) the send of one message. Resolve when its outcome is in
 * the log; resolve `'not_due'` when the message is not due yet (it is tried again later, not committed).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most callbacks return nothing (done); `'not_due'` is the exception
export type DispatchMessage = (messageId: string, record: DispatchRecord) => Promise<void | 'not_due'>;

/** Longest single timer by default (well below setTimeout's 2^31-1 ms); a longer wait re-arms. */
const defaultMaxTimerMs = 60_000;

export interface DispatchConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  dispatchMessage: DispatchMessage;
  /** Partitions worked on at once by this consumer (default 4). */
  partitionsConsumedConcurrently?: number;
  /** Records (of different keys) dispatched at once within one partition's batch (default 64). */
  concurrency?: number;
  logger?: DispatchLogger;
  /** Max wait of a fetch; lower lets a joining consumer get partitions sooner (default 500 ms). */
  maxWaitTimeInMs?: number;
  /** How long the group waits for a silent member before giving its partitions away (default 30 s). */
  sessionTimeout?: number;
  now?: () => number;
  /** First re-check after `not_due` with no due time known (default 1000 ms; doubles up to 60 s). */
  notDueRecheckMs?: number;
  /** Longest single timer (default 60 s): a longer wait re-arms, so no timer overflows or fires early. */
  maxTimerMs?: number;
}

export interface DispatchConsumer {
  /** Partitions of the topic this consumer owns now. */
  readonly assignment: number[];
  /** Resolves on the first group join (kafkajs' run() resolving does not mean that). */
  readonly joined: Promise<void>;
  /** Called after every group join with the new assignment. */
  onAssignment(listener: (partitions: number[]) => void): void;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startDispatchConsumer(options: DispatchConsumerOptions): Promise<DispatchConsumer> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 64;
  const maxTimerMs = options.maxTimerMs ?? defaultMaxTimerMs;
  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
    sessionTimeout: options.sessionTimeout ?? 30_000,
    heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeout ?? 30_000) / 3)),
  });
  let assignment: number[] = [];
  let generation = 0;
  let running = true;
  const listeners: ((partitions: number[]) => void)[] = [];
  const progress = new Map<number, PartitionProgress>();
  const deferred = new Set<NodeJS.Timeout>();
  let resolveJoined: () => void = () => {};
  const joined = new Promise<void>((resolve) => {
    resolveJoined = resolve;
  });

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    // After a join kafkajs reads every partition from its committed offset again: forget what was in flight.
    generation++;
    for (const timer of deferred) clearTimeout(timer);
    deferred.clear();
    progress.clear();
    assignment = [...(event.payload.memberAssignment[options.topic] ?? [])].sort((a, b) => a - b);
    logger.info({ groupId: options.groupId, partitions: assignment }, 'dispatch consumer joined');
    resolveJoined();
    for (const listener of listeners) listener(assignment);
  });

  const commits = new OffsetCommits(
    (partition, offset) => consumer.commitOffsets([{ topic: options.topic, partition, offset }]),
    // Lost the partition in a rebalance: its next owner redoes the uncommitted records.
    (error, partition, offset) => logger.warn({ err: error, partition, offset }, 'offset commit failed'),
  );

  /** Runs the callback until it succeeds; a throw is an infrastructure failure, never a reason to skip. */
  const dispatch = async (record: DispatchRecord, stillOwned: () => boolean): Promise<boolean | 'not_due'> => {
    let backoff = 100;
    for (;;) {
      try {
        return (await options.dispatchMessage(record.messageId, record)) === 'not_due' ? 'not_due' : true;
      } catch (error) {
        logger.error({ err: error, messageId: record.messageId }, 'dispatchMessage failed; retrying');
        if (!running || !stillOwned()) return false;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  };

  const finish = (partition: number, myGeneration: number, offset: string) => {
    if (myGeneration !== generation) return;
    const next = progress.get(partition)?.complete(offset);
    if (next) commits.request(partition, next);
  };

  /** Records must be tracked in offset order before any completes, or a commit could pass an untracked one. */
  const trackAll = (partition: number, messages: KafkaMessage[]) => {
    let tracker = progress.get(partition);
    if (!tracker) {
      tracker = new PartitionProgress();
      progress.set(partition, tracker);
    }
    for (const message of messages) tracker.track(message.offset);
  };

  const handle = async (partition: number, message: KafkaMessage, isStale: () => boolean, myGeneration: number) => {
    const stillOwned = () => myGeneration === generation && !isStale();
    let record: DispatchRecord;
    try {
      record = decodeDispatchRecord(message.value);
    } catch (error) {
      logger.error({ err: error, partition, offset: message.offset }, 'unreadable dispatch record skipped');
      finish(partition, myGeneration, message.offset);
      return;
    }
    let recheckMs = options.notDueRecheckMs ?? 1000;
    const later = (ms: number) => {
      const timer = setTimeout(
        () => {
          deferred.delete(timer);
          void attempt();
        },
        Math.min(Math.max(ms, 0), maxTimerMs),
      );
      deferred.add(timer);
    };
    const attempt = async (): Promise<void> => {
      if (!running || !stillOwned()) return;
      // A timer may fire early (capped, or the clock moved): not due yet means wait again, never skip.
      const waitMs = record.dueAt ? Date.parse(record.dueAt) - now() : 0;
      if (waitMs > 0) return later(waitMs);
      const outcome = await dispatch(record, stillOwned);
      if (outcome === 'not_due') {
        later(recheckMs);
        recheckMs = Math.min(recheckMs * 2, maxTimerMs);
        return;
      }
      if (outcome) finish(partition, myGeneration, message.offset);
    };
    const waitMs = record.dueAt ? Date.parse(record.dueAt) - now() : 0;
    if (waitMs > 0) return later(waitMs);
    await attempt();
  };

  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      // Records of one key (conversation) run in order; different keys run concurrently, up to
      // `concurrency` at a time, so one slow provider call does not hold up the whole partition.
      const myGeneration = generation;
      trackAll(batch.partition, batch.messages);
      const lanes = new Map<string, KafkaMessage[]>();
      for (const message of batch.messages) {
        const key = message.key?.toString() ?? message.offset;
        const lane = lanes.get(key);
        if (lane) lane.push(message);
        else lanes.set(key, [message]);
      }
      const queue = [...lanes.values()];
      const beat = setInterval(() => void heartbeat().catch(() => {}), 1000);
      try {
        await Promise.all(
          Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
            for (let lane = queue.shift(); lane; lane = queue.shift()) {
              for (const message of lane) {
                if (!isRunning() || isStale()) return;
                await handle(batch.partition, message, isStale, myGeneration);
              }
            }
          }),
        );
      } finally {
        clearInterval(beat);
      }
      // Resolved = fetched past; committed = done (see finish).
      const last = batch.messages.at(-1);
      if (last && isRunning() && !isStale()) resolveOffset(last.offset);
      // The batch's commits land before kafkajs may rejoin a rebalance, so a new owner redoes only records
      // still in flight, not ones finished while their commit waited its turn.
      await commits.flush(batch.partition);
      await heartbeat();
    },
  });

  return {
    get assignment() {
      return assignment;
    },
    joined,
    onAssignment(listener) {
      listeners.push(listener);
      if (generation > 0) listener(assignment);
    },
    async stop() {
      running = false;
      for (const timer of deferred) clearTimeout(timer);
      deferred.clear();
      // What is done gets committed before leaving, so the next owner does not redo it.
      await commits.flush();
      await consumer.disconnect();
    },
  };
}
