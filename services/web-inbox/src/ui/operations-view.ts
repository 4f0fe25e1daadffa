/// <reference lib="dom" />
// Operations: provider circuit breakers, dispatch backlog, projection lag, customer webhook endpoints and
// their failing deliveries — whatever the services expose.
import type { Operations } from '../api.ts';
import { clockTime } from '../format.ts';
import { h } from './dom.ts';

const value = (n: number | null, unit = '') => (n === null ? 'not reported' : `${n}${unit}`);

/** Due messages no dispatcher has claimed, and how long the oldest has waited past its due time. */
const dispatchBacklog = (d: Operations['dispatcher']) => {
  if (d.backlog === null) return 'not reported';
  if (d.backlog === 0) return '0 messages due';
  const oldest = d.oldestDueSeconds === null ? '' : `, oldest due ${d.oldestDueSeconds.toFixed(1)} s ago`;
  return `${d.backlog} ${d.backlog === 1 ? 'message' : 'messages'} due${oldest}`;
};

function renderWebhooks(webhooks: NonNullable<Operations['webhooks']>): HTMLElement {
  if (!webhooks.reachable)
    return h('p', { class: 'hint' }, `Webhooks: notifier unreachable${webhooks.error ? ` (${webhooks.error})` : ''}`);
  return h(
    'div',
    { class: 'webhooks' },
    h(
      'table',
      {},
      h('caption', {}, 'Webhook endpoints'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Endpoint', 'Health', 'Waiting', 'Given up'].map((title) => h('th', { scope: 'col' }, title))),
      ),
      h(
        'tbody',
        {},
        webhooks.endpoints.length
          ? webhooks.endpoints.map((e) =>
              h(
                'tr',
                { 'data-endpoint': e.endpointId },
                h('th', { scope: 'row' }, e.url),
                h(
                  'td',
                  {},
                  !e.enabled ? 'disabled' : e.failingSince ? `failing since ${clockTime(e.failingSince)}` : 'healthy',
                ),
                h('td', {}, String(e.pending)),
                h('td', {}, String(e.failed)),
              ),
            )
          : h('tr', {}, h('td', { colspan: 4 }, 'No webhook endpoints registered')),
      ),
    ),
    h(
      'table',
      {},
      h('caption', {}, 'Latest failed deliveries'),
      h(
        'tbody',
        {},
        webhooks.failing.length
          ? webhooks.failing.map((f) =>
              h(
                'tr',
                {},
                h('td', {}, clockTime(f.attemptedAt)),
                h('td', {}, `${f.eventType} (attempt ${f.attempt})`),
                h('td', {}, f.error ?? (f.responseStatus === null ? 'failed' : `HTTP ${f.responseStatus}`)),
              ),
            )
          : h('tr', {}, h('td', {}, 'No failed deliveries')),
      ),
    ),
  );
}

export function renderOperations(ops: Operations): HTMLElement {
  return h(
    'div',
    { class: 'operations' },
    h('p', { class: 'hint' }, `Checked at ${clockTime(ops.checkedAt)}; refreshes every few seconds.`),
    h(
      'table',
      {},
      h('caption', {}, 'Providers'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Provider'), h('th', { scope: 'col' }, 'Circuit breaker'))),
      h(
        'tbody',
        {},
        ops.providers.length
          ? ops.providers.map((p) =>
              h(
                'tr',
                { 'data-provider': p.provider },
                h('th', { scope: 'row' }, p.provider),
                h('td', {}, h('span', { class: `breaker breaker-${p.breaker}` }, p.breaker.replace('_', '-'))),
              ),
            )
          : h('tr', {}, h('td', { colspan: 2 }, 'No provider health reported')),
      ),
    ),
    h(
      'dl',
      { class: 'figures' },
      h('dt', {}, 'Dispatcher'),
      h(
        'dd',
        {},
        ops.dispatcher.reachable
          ? 'reachable'
          : `unreachable${ops.dispatcher.error ? ` (${ops.dispatcher.error})` : ''}`,
      ),
      h('dt', {}, 'Attempts in flight'),
      h('dd', {}, value(ops.dispatcher.inFlight)),
      h('dt', {}, 'Dispatch backlog'),
      h('dd', { 'data-figure': 'dispatch-backlog' }, dispatchBacklog(ops.dispatcher)),
      h('dt', {}, 'Projector'),
      h(
        'dd',
        {},
        ops.projector.reachable ? 'reachable' : `unreachable${ops.projector.error ? ` (${ops.projector.error})` : ''}`,
      ),
      h('dt', {}, 'Projection lag'),
      h(
        'dd',
        {},
        ops.projector.lagEvents === null && ops.projector.lagSeconds === null
          ? 'not reported'
          : [
              ops.projector.lagEvents !== null ? `${ops.projector.lagEvents} events` : null,
              ops.projector.lagSeconds !== null ? `${ops.projector.lagSeconds.toFixed(2)} s` : null,
            ]
              .filter(Boolean)
              .join(', '),
      ),
      h('dt', {}, 'Quarantined events'),
      h('dd', { 'data-figure': 'quarantined' }, value(ops.projector.quarantined)),
    ),
    ops.webhooks ? renderWebhooks(ops.webhooks) : null,
  );
}
