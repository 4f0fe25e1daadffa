import { accountsProjection } from './accounts.ts';
import { contactsProjection } from './contacts.ts';
import { conversationsProjection } from './conversations.ts';
import { messageEventsProjection } from './message-events.ts';
import { messagesProjection } from './messages.ts';
import type { Projection } from './projection.ts';

export * from './accounts.ts';
export * from './applier.ts';
export * from './contacts.ts';
export * from './conversations.ts';
export * from './message-events.ts';
export * from './messages.ts';
export * from './projection.ts';
export * from './quarantine.ts';
export * from './quarantine-retry.ts';
export { assertIdentifier, qualified } from './sql.ts';

/** Every read-model projection, in the order they are applied. */
export const allProjections: readonly Projection[] = [
  conversationsProjection,
  messagesProjection,
  messageEventsProjection,
  contactsProjection,
  accountsProjection,
];

export function projectionsByName(names: readonly string[]): Projection[] {
  return names.map((name) => {
    const found = allProjections.find((p) => p.name === name);
    if (!found)
      throw new RangeError(`unknown projection ${name} (known: ${allProjections.map((p) => p.name).join(', ')})`);
    return found;
  });
}

/** Checkpoint ids of the projections the query side waits for. */
export const readModelCheckpointIds = allProjections.map((p) => `projection:${p.name}`);
export * from './audit/compare.ts';
export * from './audit/rebuild.ts';
export * from './audit/verify.ts';
export * from './read-pool.ts';
