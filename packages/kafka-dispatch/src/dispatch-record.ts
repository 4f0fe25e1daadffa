// What the relay puts on the dispatch topic: a pointer to a message that needs a send attempt, never
// the message itself (no bodies or addresses in Kafka; the dispatcher reads the message stream).
import { z } from 'zod';

export const dispatchEventTypes = ['MessageRequested', 'MessageRetryScheduled'] as const;

export const dispatchRecordSchema = z.object({
  messageId: z.uuid(),
  eventType: z.enum(dispatchEventTypes),
  eventId: z.string().min(1),
  /** Log position of the event: lets consumers and tests tell records apart and order them. */
  position: z.string().min(1),
  /** Retries and scheduled sends: do not attempt before this instant. */
  dueAt: z.iso.datetime({ offset: true }).nullable(),
});
export type DispatchRecord = z.infer<typeof dispatchRecordSchema>;

export const encodeDispatchRecord = (record: DispatchRecord) => Buffer.from(JSON.stringify(record));

export const decodeDispatchRecord = (value: Buffer | null): DispatchRecord =>
  dispatchRecordSchema.parse(JSON.parse(value?.toString() ?? 'null'));
