import type { EventStore, Queryable } from '@hatch/event-store';
import type { Logger } from '@hatch/platform';
import type { Registry } from 'prom-client';
import type { AccountDirectory } from './account-directory.ts';
import type { CommandApiConfig } from './config.ts';

/** Everything the command routes touch outside themselves. */
export interface CommandDeps {
  eventStore: EventStore;
  clock: { now(): Date };
  config: CommandApiConfig;
  logger: Logger;
  /** Random part of the idempotency key we give a send that came without one (the message id derives from it). */
  newMessageId?: () => string;
  /** Ids of new contacts and of contact commands (random by default). */
  newId?: () => string;
  /** Where command metrics go (the app's registry). */
  registry?: Registry;
  /** Keys and senders by account (built from the event store when absent). */
  directory?: AccountDirectory;
  /** The notifier's delivery tables (attempts, retries); absent: those routes answer 503. */
  webhookDeliveries?: Queryable | null;
}
