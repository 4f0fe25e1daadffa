// What every read-model projection looks like: a name (its checkpoint is `projection:<name>`), the
// tables it owns, and `apply`, which folds a batch of events (log order) into those tables inside the
// caller's transaction. The folding itself is pure (`evolve…` in each projection's file); `apply` only
// loads the rows a batch touches and writes them back with one multi-row statement per table.
import type { DomainEvent, MessageEvent } from '@hatch/domain';
import type { Queryable } from '@hatch/event-store';

/** A message event as the projections see it: validated, with where and when it was recorded. */
export interface ProjectedEvent {
  eventId: string;
  position: string;
  recordedAt: string;
  event: MessageEvent;
}

/** Any domain event (messages, consent, contacts), for projections that fold more than messages. */
export interface ProjectedDomainEvent {
  eventId: string;
  position: string;
  recordedAt: string;
  event: DomainEvent;
}

export interface Projection {
  name: string;
  /** Tables in dependency order (referenced tables first). */
  tables: readonly string[];
  /** `events`: the batch's message events; `domain`: every domain event of the batch (same order). */
  apply(
    db: Queryable,
    schema: string,
    events: readonly ProjectedEvent[],
    domain: readonly ProjectedDomainEvent[],
  ): Promise<void>;
}

export const checkpointId = (projectionName: string) => `projection:${projectionName}`;
