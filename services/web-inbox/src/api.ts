// The inbox's only view of the HTTP API: every request and response shape lives here, parsed with
// zod at the boundary and mapped to the small view types the UI renders. Runs in the browser and in Node.
// The answers' shapes are the query API's own (@hatch/vocabulary), so the two cannot drift apart.
import {
  type Channel,
  conversationSchema,
  type Direction,
  isMessageStatus,
  type MessageStatus,
  messageSchema,
  messageWithHistorySchema,
  type statusChangeSchema,
} from '@hatch/vocabulary';
import * as z from 'zod/mini';
import { clockTime, htmlToText } from './format.ts';

export type { Channel, Direction } from '@hatch/vocabulary';
/** What the timeline shows; `retrying` is a queued message with a scheduled retry. */
export type DisplayStatus = MessageStatus | 'retrying';

export interface ConversationSummary {
  id: string;
  participants: string[];
  /** Each participant as people know it: the contact's name when it has one, else the address. */
  names: string[];
  channels: Channel[];
  lastActivityAt: string;
  messageCount: number;
  lastMessage: { preview: string; direction: Direction } | null;
}

export interface Message {
  id: string;
  conversationId: string;
  direction: Direction;
  channel: Channel;
  from: string;
  to: string;
  subject: string | null;
  body: string;
  attachments: string[];
  status: DisplayStatus;
  statusReason: string | null;
  nextAttemptAt: string | null;
  /** A scheduled send: when it is due. */
  sendAt: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface StatusChange {
  status: string;
  at: string;
  detail: string | null;
}

export interface MessageWithHistory extends Message {
  history: StatusChange[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  /** The log position the answer reflects (`X-Hatch-Position`): a live stream started there misses nothing. */
  position: string | null;
}

export interface SendAccepted {
  id: string;
  conversationId: string;
  position: string;
}

export interface SmsDraft {
  from: string;
  to: string;
  type: 'sms' | 'mms';
  body: string;
  attachments: string[];
}

export interface EmailDraft {
  from: string;
  to: string;
  subject: string;
  body: string;
  attachments: string[];
}

/** Who the inbox acts for: the signed-in account (its session cookie). */
export interface SignedIn {
  accountId: string;
  name: string;
  expiresAt: string;
}

export interface Operations {
  checkedAt: string;
  providers: { provider: string; breaker: string }[];
  dispatcher: {
    reachable: boolean;
    inFlight: number | null;
    /** Messages due and claimed by no dispatcher; with how long the oldest of them has been due. */
    backlog: number | null;
    oldestDueSeconds: number | null;
    error: string | null;
  };
  projector: {
    reachable: boolean;
    lagEvents: number | null;
    lagSeconds: number | null;
    /** Events a projection refused and set aside (bin/replay --quarantined lists them). */
    quarantined: number | null;
    error: string | null;
  };
  /** Customer webhook endpoints (failing first) and the latest failed deliveries; absent from an older server. */
  webhooks?: {
    reachable: boolean;
    error: string | null;
    endpoints: {
      endpointId: string;
      url: string;
      enabled: boolean;
      failingSince: string | null;
      pending: number;
      failed: number;
    }[];
    failing: {
      endpointId: string;
      eventType: string;
      attempt: number;
      attemptedAt: string;
      responseStatus: number | null;
      error: string | null;
    }[];
  };
}

/** An RFC 9457 problem answered by the API. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | null,
    readonly errors: { field: string; message: string }[],
  ) {
    super(detail ?? title);
  }
}

// ---- wire shapes -------------------------------------------------------------------------------

const optionalString = z.optional(z.nullable(z.string()));

const wirePage = <T extends z.ZodMiniType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.optional(z.nullable(z.string())) });

const wireAccepted = z.object({ id: z.string(), conversationId: z.string(), position: z.string() });

const wireProblem = z.object({
  title: z.optional(z.string()),
  status: z.optional(z.number()),
  detail: optionalString,
  errors: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))),
});

const wireSignedIn = z.object({ accountId: z.string(), name: z.string(), expiresAt: z.string() });

const wireOperations = z.object({
  checkedAt: z.string(),
  providers: z.array(z.object({ provider: z.string(), breaker: z.string() })),
  dispatcher: z.object({
    reachable: z.boolean(),
    inFlight: z.nullable(z.number()),
    backlog: z.nullable(z.number()),
    oldestDueSeconds: z.nullable(z.number()),
    error: z.nullable(z.string()),
  }),
  projector: z.object({
    reachable: z.boolean(),
    lagEvents: z.nullable(z.number()),
    lagSeconds: z.nullable(z.number()),
    quarantined: z.nullable(z.number()),
    error: z.nullable(z.string()),
  }),
  webhooks: z.optional(
    z.object({
      reachable: z.boolean(),
      error: z.nullable(z.string()),
      endpoints: z.array(
        z.object({
          endpointId: z.string(),
          url: z.string(),
          enabled: z.boolean(),
          failingSince: z.nullable(z.string()),
          pending: z.number(),
          failed: z.number(),
        }),
      ),
      failing: z.array(
        z.object({
          endpointId: z.string(),
          eventType: z.string(),
          attempt: z.number(),
          attemptedAt: z.string(),
          responseStatus: z.nullable(z.number()),
          error: z.nullable(z.string()),
        }),
      ),
    }),
  ),
});

// ---- mapping -----------------------------------------------------------------------------------

const toConversation = (w: z.infer<typeof conversationSchema>): ConversationSummary => ({
  id: w.id,
  participants: w.participants,
  names: w.participants.map((p) => w.contacts?.find((c) => c.address === p)?.displayName || p),
  channels: w.channels,
  lastActivityAt: w.lastActivityAt,
  messageCount: w.messageCount,
  lastMessage: {
    // Email previews are cut from the HTML body: show its text.
    preview: w.lastMessage.channel === 'email' ? htmlToText(w.lastMessage.preview) : w.lastMessage.preview,
    direction: w.lastMessage.direction,
  },
});

export function displayStatus(direction: Direction, status: string, nextAttemptAt: string | null): DisplayStatus {
  if (direction === 'inbound') return 'received';
  if (status === 'queued' && nextAttemptAt) return 'retrying';
  return isMessageStatus(status) && status !== 'received' ? status : 'queued';
}

const toMessage = (w: z.infer<typeof messageSchema>): Message => ({
  id: w.id,
  conversationId: w.conversationId,
  direction: w.direction,
  channel: w.channel,
  from: w.from,
  to: w.to,
  subject: w.subject,
  body: w.body,
  attachments: w.attachments,
  status: displayStatus(w.direction, w.status, w.nextAttemptAt),
  statusReason: w.lastError ?? (w.errorCode ? `error code ${w.errorCode}` : null),
  nextAttemptAt: w.nextAttemptAt,
  sendAt: w.sendAt,
  attempts: w.attempts,
  createdAt: w.createdAt,
  updatedAt: w.statusChangedAt ?? w.createdAt,
});

/** `MessageRetryScheduled` → "Retry scheduled". */
const eventLabel = (type: string) =>
  type
    .replace(/^Message/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/ (\w)/g, (_, c: string) => ` ${c.toLowerCase()}`);

const toStatusChange = (w: z.infer<typeof statusChangeSchema>): StatusChange => ({
  status: eventLabel(w.type),
  at: w.occurredAt,
  detail:
    [
      w.provider,
      w.attempt != null ? `attempt ${w.attempt}` : null,
      w.providerStatus != null ? `HTTP ${w.providerStatus}` : null,
      w.errorCode ? `code ${w.errorCode}` : null,
      w.reason,
      w.dueAt ? `next attempt at ${clockTime(w.dueAt)}` : null,
    ]
      .filter(Boolean)
      .join(' · ') || null,
});

// ---- client ------------------------------------------------------------------------------------

export interface ApiClient {
  listConversations(query?: {
    participant?: string;
    channel?: Channel;
    cursor?: string;
    limit?: number;
  }): Promise<Page<ConversationSummary>>;
  /** `after`: a log position the answer must include (read-your-writes, bounded wait on the server). */
  getConversation(id: string, after?: string): Promise<ConversationSummary>;
  listMessages(
    conversationId: string,
    query?: { cursor?: string; limit?: number; after?: string },
  ): Promise<Page<Message>>;
  getMessage(id: string, after?: string): Promise<MessageWithHistory>;
  sendSms(draft: SmsDraft): Promise<SendAccepted>;
  sendEmail(draft: EmailDraft): Promise<SendAccepted>;
  operations(): Promise<Operations>;
  /** URL of the live stream (all conversations, or one), resuming after `lastEventId` when given. */
  streamUrl(options?: { conversationId?: string; lastEventId?: string | null }): string;
  /** The signed-in account; a 401 Problem when not signed in. */
  session(): Promise<SignedIn>;
  /** Exchanges the key for the session cookie (the key is not kept anywhere in the browser). */
  signIn(apiKey: string): Promise<SignedIn>;
  signOut(): Promise<void>;
}

/**
 * Sent on every write: the API refuses a write authenticated by the session cookie without it (a page on
 * another site cannot add a custom header to a request here).
 */
export const csrfHeaders = { 'x-hatch-csrf': '1' } as const;

export function createApiClient(
  options: {
    baseUrl?: string;
    fetch?: typeof fetch;
    /** Bearer key, asked for each request (Node clients; the browser signs in and sends its cookie). */
    apiKey?: () => string | null;
  } = {},
): ApiClient {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function request<S extends z.ZodMiniType>(
    path: string,
    schema: S,
    init: RequestInit = {},
  ): Promise<z.infer<S>> {
    return (await requestWithPosition(path, schema, init)).body;
  }

  async function requestWithPosition<S extends z.ZodMiniType>(
    path: string,
    schema: S,
    init: RequestInit = {},
  ): Promise<{ body: z.infer<S>; position: string | null }> {
    const key = options.apiKey?.();
    const response = await doFetch(`${base}${path}`, {
      ...init,
      headers: {
        accept: 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.headers ?? {}),
      },
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: reported below
    }
    if (!response.ok) {
      const problem = z.safeParse(wireProblem, json);
      const p = problem.success ? problem.data : {};
      throw new Problem(
        response.status,
        p.title ?? response.statusText ?? 'Request failed',
        p.detail ?? (problem.success ? null : text.slice(0, 200) || null),
        p.errors ?? [],
      );
    }
    const parsed = z.safeParse(schema, json);
    if (!parsed.success) {
      throw new Problem(response.status, 'Unexpected response', `${path}: ${z.prettifyError(parsed.error)}`, []);
    }
    return { body: parsed.data, position: response.headers.get('x-hatch-position') };
  }

  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
    const s = search.toString();
    return s ? `?${s}` : '';
  };
  const post = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...csrfHeaders },
    body: JSON.stringify(body),
  });
  const id = encodeURIComponent;

  return {
    async listConversations(q = {}) {
      const { body: page, position } = await requestWithPosition(
        `/api/conversations${query(q)}`,
        wirePage(conversationSchema),
      );
      return { items: page.items.map(toConversation), nextCursor: page.nextCursor ?? null, position };
    },
    async getConversation(conversationId, after) {
      return toConversation(
        await request(`/api/conversations/${id(conversationId)}${query({ after })}`, conversationSchema),
      );
    },
    async listMessages(conversationId, q = {}) {
      const { body: page, position } = await requestWithPosition(
        `/api/conversations/${id(conversationId)}/messages${query(q)}`,
        wirePage(messageSchema),
      );
      return { items: page.items.map(toMessage), nextCursor: page.nextCursor ?? null, position };
    },
    async getMessage(messageId, after) {
      const w = await request(`/api/messages/${id(messageId)}${query({ after })}`, messageWithHistorySchema);
      return {
        ...toMessage(w),
        history: w.history.map(toStatusChange),
      };
    },
    async sendSms(draft) {
      const body = {
        from: draft.from,
        to: draft.to,
        type: draft.type,
        body: draft.body,
        attachments: draft.attachments.length ? draft.attachments : null,
        timestamp: new Date().toISOString(),
      };
      return request('/api/messages/sms', wireAccepted, post(body));
    },
    async sendEmail(draft) {
      const body = {
        from: draft.from,
        to: draft.to,
        ...(draft.subject ? { subject: draft.subject } : {}),
        body: draft.body,
        attachments: draft.attachments,
        timestamp: new Date().toISOString(),
      };
      return request('/api/messages/email', wireAccepted, post(body));
    },
    operations() {
      return request('/api/inbox/operations', wireOperations);
    },
    streamUrl({ conversationId, lastEventId } = {}) {
      const path = conversationId ? `/api/conversations/${id(conversationId)}/stream` : '/api/stream';
      return `${base}${path}${query({ lastEventId: lastEventId ?? undefined })}`;
    },
    session() {
      return request('/api/session', wireSignedIn);
    },
    signIn(apiKey) {
      return request('/api/session', wireSignedIn, post({ apiKey }));
    },
    async signOut() {
      await request('/api/session', z.unknown(), { method: 'DELETE', headers: csrfHeaders });
    },
  };
}
