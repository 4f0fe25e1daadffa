// Requests asked for in one turn of the event loop, run together as one batch (one statement, one query)
// instead of one round trip each. A request only joins a batch not yet sent, so it sees everything done
// before it was asked. At most `maxInFlight` batches run at once (leave the pool room for other work); what
// arrives meanwhile waits for the next.

export interface TurnBatchOptions<Request, Answer> {
  /** Runs one batch (its requests have distinct keys) and says how to answer each of them. */
  run: (requests: Request[]) => Promise<(request: Request) => Answer>;
  key: (request: Request) => string;
  /**
   * A request whose key the batch already holds: `share` the first one's answer (reads), or wait for the
   * `next` batch (a write a statement may apply only once per row).
   */
  sameKey: 'share' | 'next';
  /** Batches in flight at once. Default 2. */
  maxInFlight?: number;
  /** Distinct keys per batch. Default 500. */
  maxBatch?: number;
}

type Waiter<Request, Answer> = {
  request: Request;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
};

export function batchPerTurn<Request, Answer>(
  options: TurnBatchOptions<Request, Answer>,
): (request: Request) => Promise<Answer> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatch = options.maxBatch ?? 500;
  let waiting: Waiter<Request, Answer>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const send = (groups: Waiter<Request, Answer>[][]) => {
    inFlight++;
    options
      .run(groups.map((group) => (group[0] as Waiter<Request, Answer>).request))
      .then(
        (answer) => {
          for (const group of groups) for (const w of group) w.resolve(answer(w.request));
        },
        (error: unknown) => {
          for (const group of groups) for (const w of group) w.reject(error);
        },
      )
      .finally(() => {
        inFlight--;
        pump();
      });
  };

  function pump() {
    while (inFlight < maxInFlight && waiting.length > 0) {
      // Waiters by key, in arrival order (a Map keeps insertion order).
      const groups = new Map<string, Waiter<Request, Answer>[]>();
      const rest: Waiter<Request, Answer>[] = [];
      for (const w of waiting) {
        const key = options.key(w.request);
        const group = groups.get(key);
        if (group && options.sameKey === 'share') group.push(w);
        else if (!group && groups.size < maxBatch) groups.set(key, [w]);
        else rest.push(w);
      }
      waiting = rest;
      send([...groups.values()]);
    }
  }

  return (request) =>
    new Promise<Answer>((resolve, reject) => {
      waiting.push({ request, resolve, reject });
      if (scheduled) return;
      scheduled = true;
      // Whatever asks during this turn of the event loop joins the same batch.
      setImmediate(() => {
        scheduled = false;
        pump();
      });
    });
}
