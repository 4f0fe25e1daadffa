// What the command handler needs from a stream's decisions: how to read the stream's events (`parse`) and
// fold them into state (`evolve` from `initialState`). Decisions themselves are plain functions of
// (command, state) returning an explicit outcome: accepted with the events to append (deterministic ids,
// no metadata: the handler stamps it), or a named rejection.

export interface Fold<State, Event> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  /** The stream's event as this fold knows it; null for event types the fold ignores. */
  parse: (type: string, data: unknown) => Event | null;
}

/** A decision's events, ready to append but for their metadata. */
export interface PendingEvent {
  id: string;
  type: string;
  data: unknown;
}

/** A decision that appends `events` (none: nothing to do) to `streamId`. */
export interface Accepted<E extends PendingEvent> {
  ok: true;
  streamId: string;
  events: E[];
}

/** Folds logged events from the initial state (tests, and readers that need no handler). */
export const foldEvents = <State, Event>(
  fold: Fold<State, Event>,
  events: readonly { type: string; data: unknown }[],
): State =>
  events.reduce((state, e) => {
    const event = fold.parse(e.type, e.data);
    return event === null ? state : fold.evolve(state, event);
  }, fold.initialState());
