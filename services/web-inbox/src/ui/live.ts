/// <reference lib="dom" />
// The live stream: one EventSource on the all-conversations stream. The browser resends the last SSE
// id as Last-Event-ID when it reconnects by itself, so the server resumes exactly where we stopped.
// When the browser gives up (the server refused a reconnect) we open a new EventSource ourselves, with
// the last id in the URL (`?lastEventId=`, which the query API accepts like the header). The first
// connection starts at the position the first listing reflected, so nothing between that read and the
// stream opening is lost. Only without any position do we refetch what is on screen after a reconnect.

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveChange {
  conversationId: string | null;
  messageId: string | null;
  /** The message's status after the change, when the stream says it. */
  status: string | null;
  type: string;
  position: string;
}

export interface LiveOptions {
  /** The stream URL, resuming after `lastEventId` when given. */
  url(lastEventId: string | null): string;
  /** Where to start: the position of what is already on screen (null: from now on). */
  startAfter: string | null;
  /** SSE event names the server uses besides the default `message`. */
  eventNames: readonly string[];
  onChange(change: LiveChange): void;
  onState(state: ConnectionState, detail: { lastEventId: string | null; retryInMs?: number }): void;
  /** Called when a new connection could not resume: refetch everything shown. */
  onResync(): void;
}

const pick = (value: unknown, ...keys: string[]): string | null => {
  if (!value || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  for (const key of keys) {
    const found = record[key];
    if (typeof found === 'string') return found;
  }
  for (const nested of ['data', 'message', 'payload']) {
    const inner = record[nested];
    if (inner && typeof inner === 'object') {
      const found = pick(inner, ...keys);
      if (found) return found;
    }
  }
  return null;
};

/** What changed, from an SSE frame of any of the stream's event kinds. */
export function readChange(type: string, data: string, position: string): LiveChange {
  let json: unknown = null;
  try {
    json = JSON.parse(data);
  } catch {
    // heartbeats and comments carry no JSON
  }
  return {
    type: pick(json, 'type') ?? type,
    conversationId: pick(json, 'conversationId', 'conversation_id'),
    messageId: pick(json, 'messageId', 'message_id'),
    status: pick(json, 'status'),
    position,
  };
}

export function connectLive(options: LiveOptions) {
  let source: EventSource | null = null;
  let lastEventId: string | null = options.startAfter;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;
  let needsResync = false;

  const open = () => {
    options.onState(failures ? 'reconnecting' : 'connecting', { lastEventId });
    // The URL carries the position for our own (re)connects; the browser's own reconnects add the
    // newer Last-Event-ID header, which the server prefers.
    const es = new EventSource(options.url(lastEventId));
    source = es;
    es.onopen = () => {
      failures = 0;
      options.onState('live', { lastEventId });
      if (needsResync) {
        needsResync = false;
        options.onResync();
      }
    };
    const handle = (event: MessageEvent<string>) => {
      if (event.lastEventId) lastEventId = event.lastEventId;
      options.onChange(readChange(event.type, event.data, event.lastEventId));
    };
    es.addEventListener('message', handle);
    for (const name of options.eventNames) es.addEventListener(name, handle as EventListener);
    es.onerror = () => {
      if (stopped) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser retries with Last-Event-ID: nothing to resync.
        options.onState('reconnecting', { lastEventId });
        return;
      }
      es.close();
      failures += 1;
      needsResync = lastEventId === null;
      const retryInMs = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
      options.onState('offline', { lastEventId, retryInMs });
      retryTimer = setTimeout(open, retryInMs);
    };
  };
  open();

  return {
    get lastEventId() {
      return lastEventId;
    },
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      source?.close();
    },
  };
}
