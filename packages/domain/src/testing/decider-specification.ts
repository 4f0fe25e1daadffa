// Decision tests as given(events) / when(command) / thenAppends(events) | thenRejects(rejection), after Emmett's
// DeciderSpecification: the state is folded from the given events exactly as the handler folds a stream,
// so a test says what happened before and what the command decides, with no store at all.
import { expect } from 'vitest';
import type { Fold, PendingEvent } from '../decider.ts';

type Outcome = { ok: true; events: PendingEvent[] } | { ok: false };

export function deciderSpecification<State, Event, Command, D extends Outcome>(
  fold: Fold<State, Event>,
  decide: (command: Command, state: State) => D,
) {
  return {
    given: (events: readonly Event[]) => ({
      when: (command: Command) => {
        const decision = decide(command, events.reduce(fold.evolve, fold.initialState()));
        return {
          decision,
          /** The decision appends exactly these events (ids included). */
          thenAppends: (expected: readonly Partial<PendingEvent>[]) =>
            expect(decision).toMatchObject({ ok: true, events: expected }),
          /** Accepted, with nothing to append. */
          thenNothing: () => expect(decision).toMatchObject({ ok: true, events: [] }),
          thenRejects: (rejection: Exclude<D, { ok: true }>) => expect(decision).toEqual(rejection),
        };
      },
    }),
  };
}
