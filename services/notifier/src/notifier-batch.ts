// One batch of the log into the notifier's tables (inside the consumer's checkpoint transaction): endpoint
// changes, message and sender routing, and one delivery row per (customer event, subscribed endpoint).
// Events are taken in log order, so an endpoint receives exactly the events recorded after it was created.
import {
  isWebhookEndpointEventType,
  parseSenderClaimEvent,
  parseWebhookEndpointEvent,
  type WebhookEndpointEventOf,
} from '@hatch/domain';
import { type EventStore, type Queryable, type RecordedEvent, streamCategory } from '@hatch/event-store';
import {
  applyEndpointEvent,
  deliveriesFor,
  type EndpointTarget,
  endpointTarget,
  enqueueDeliveries,
  insertMessageRoutes,
  liveEndpoints,
  lookupsOf,
  type MessageRouteRow,
  messageRouteOf,
  messageRoutes,
  type NewDelivery,
  notificationFor,
  parsedOrNull,
  senderOwners,
  setSenderOwner,
} from '@hatch/webhooks';

type Replay = WebhookEndpointEventOf<'WebhookEndpointReplayRequested'>['data'] & { upTo: string };

/** Message routes and sender owners the events need, from the batch itself and the tables. */
async function routingFor(db: Queryable, events: readonly RecordedEvent[]) {
  const messages = new Map<string, MessageRouteRow>();
  for (const e of events) {
    const route = messageRouteOf(e);
    if (route) messages.set(route.messageId, route);
  }
  const wanted = events.map(lookupsOf);
  const missing = [...new Set(wanted.flatMap((w) => (w.messageId && !messages.has(w.messageId) ? [w.messageId] : [])))];
  for (const [id, route] of await messageRoutes(db, missing)) messages.set(id, route);
  const senders = await senderOwners(db, [...new Set(wanted.flatMap((w) => (w.sender ? [w.sender] : [])))]);
  return { messages, senders };
}

export async function applyNotifierBatch(db: Queryable, events: readonly RecordedEvent[]): Promise<Replay[]> {
  const routing = await routingFor(db, events);
  await insertMessageRoutes(
    db,
    events.flatMap((e) => messageRouteOf(e) ?? []),
  );
  const endpointsByAccount = new Map<string, EndpointTarget[]>();
  const endpointsOf = async (accountId: string) => {
    const known = endpointsByAccount.get(accountId);
    if (known) return known;
    const loaded = (await liveEndpoints(db, [accountId])).get(accountId) ?? [];
    endpointsByAccount.set(accountId, loaded);
    return loaded;
  };
  const deliveries: NewDelivery[] = [];
  const replays: Replay[] = [];
  for (const event of events) {
    const category = streamCategory(event.streamId);
    if (category === 'webhookendpoint' && isWebhookEndpointEventType(event.type)) {
      const parsed = parsedOrNull(() => parseWebhookEndpointEvent(event.type, event.data));
      if (!parsed) continue;
      // Deliveries decided so far in this batch go in first: a later change must not affect them.
      await enqueueDeliveries(db, deliveries.splice(0), { resend: false });
      await applyEndpointEvent(db, parsed);
      endpointsByAccount.delete(parsed.data.accountId);
      if (parsed.type === 'WebhookEndpointReplayRequested') replays.push({ ...parsed.data, upTo: event.position });
      continue;
    }
    if (category === 'sender' && (event.type === 'SenderClaimed' || event.type === 'SenderReleased')) {
      const claim = parsedOrNull(() => parseSenderClaimEvent(event.type, event.data));
      if (!claim) continue;
      const owner = claim.type === 'SenderClaimed' ? claim.data.accountId : null;
      await setSenderOwner(db, claim.data.sender, owner);
      if (owner) routing.senders.set(claim.data.sender, owner);
      else routing.senders.delete(claim.data.sender);
      continue;
    }
    const notification = notificationFor(event, routing);
    if (notification) deliveries.push(...deliveriesFor(notification, await endpointsOf(notification.accountId)));
  }
  await enqueueDeliveries(db, deliveries, { resend: false });
  return replays;
}

const replayPage = 1000;

/**
 * Re-queues every customer event of the endpoint's account from `since` up to the replay request, with the
 * original webhook-ids and bodies (existing rows are put back to pending). A time reads from the start of
 * the log and keeps events recorded at or after it.
 */
export async function applyReplay(db: Queryable, store: EventStore, replay: Replay) {
  const endpoint = await endpointTarget(db, replay.endpointId);
  if (!endpoint) return 0;
  let after = 'position' in replay.since ? replay.since.position : null;
  const from = 'time' in replay.since ? Date.parse(replay.since.time) : null;
  let queued = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: replayPage });
    const inRange = page.filter(
      (e) => e.position <= replay.upTo && (from === null || Date.parse(e.recordedAt) >= from),
    );
    const routing = await routingFor(db, inRange);
    const deliveries = inRange
      .flatMap((e) => notificationFor(e, routing) ?? [])
      .filter((n) => n.accountId === replay.accountId)
      .flatMap((n) => deliveriesFor(n, [endpoint]));
    await enqueueDeliveries(db, deliveries, { resend: true });
    queued += deliveries.length;
    const last = page.at(-1)?.position;
    if (page.length < replayPage || !last || last >= replay.upTo) return queued;
    after = last;
  }
}
