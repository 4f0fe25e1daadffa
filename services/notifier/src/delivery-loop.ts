// Sends due deliveries: claims them from the table (leased, per-endpoint slots), posts each one outside any
// transaction, and records the attempt with the delivery's next state. Every attempt runs on its own, so a
// slow or dead endpoint holds only its own slots (WEBHOOK_ENDPOINT_CONCURRENCY) and its own timeouts.
import { randomUUID } from 'node:crypto';
import type { Logger, SecretBox } from '@hatch/platform';
import {
  type AttemptRecord,
  claimDueDeliveries,
  classifyOutcome,
  type DeliveryOutcome,
  type DeliveryPolicy,
  type DueDelivery,
  deliverWebhook,
  markEndpointDisabled,
  nextRetryDelayMs,
  recordAttempt,
} from '@hatch/webhooks';
import type pg from 'pg';

export interface DeliveryLoopOptions {
  pool: pg.Pool;
  log: Logger;
  policy: DeliveryPolicy;
  /** Opens the endpoint secrets the table holds sealed (WEBHOOK_SECRETS_KEY and its previous keys). */
  secrets: SecretBox;
  schedule: readonly number[];
  concurrency: number;
  endpointConcurrency: number;
  leaseMs: number;
  pollMs: number;
  disableAfterMs: number;
  /** Appends WebhookEndpointDisabled (410 Gone, or failing for too long). */
  disable: (endpointId: string, reason: 'gone' | 'failing', detail: string) => Promise<void>;
  onAttempt?: (outcome: 'delivered' | 'gone' | 'retry', latencyMs: number) => void;
  now?: () => number;
}

export interface DeliveryLoop {
  readonly inFlight: number;
  wake(): void;
  stop(): Promise<void>;
}

const describe = (outcome: DeliveryOutcome) =>
  outcome.kind === 'error'
    ? outcome.error
    : outcome.status >= 200 && outcome.status < 300
      ? null
      : `HTTP ${outcome.status}${outcome.responseBody ? `: ${outcome.responseBody.slice(0, 200)}` : ''}`;

export function startDeliveryLoop(options: DeliveryLoopOptions): DeliveryLoop {
  const now = options.now ?? Date.now;
  const busy = new Map<string, number>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  let ticking = false;
  let again = false;

  /** The plain secrets, in memory only for the attempt; null when a key to open them is not configured. */
  function openSecrets(delivery: DueDelivery): string[] | null {
    try {
      return delivery.secrets.map((sealed) => options.secrets.open(sealed, delivery.endpointId));
    } catch (error) {
      options.log.error(
        { endpointId: delivery.endpointId, reason: error instanceof Error ? error.message : 'cannot open' },
        'webhook endpoint secret cannot be opened: check WEBHOOK_SECRETS_KEY and WEBHOOK_SECRETS_KEY_PREVIOUS',
      );
      return null;
    }
  }

  async function attempt(delivery: DueDelivery) {
    const attemptedAt = new Date(now());
    const secrets = openSecrets(delivery);
    // Unsigned is never an option: without its secret the attempt fails (and retries) without being sent.
    const outcome: DeliveryOutcome =
      secrets === null
        ? {
            kind: 'error',
            error: 'signing secret cannot be opened with the configured keys',
            latencyMs: 0,
            unsafe: false,
          }
        : await deliverWebhook(
            {
              url: delivery.url,
              webhookId: delivery.deliveryId,
              secrets,
              body: delivery.body,
              timestampSeconds: Math.floor(attemptedAt.getTime() / 1000),
            },
            options.policy,
          );
    const verdict = classifyOutcome(outcome);
    options.onAttempt?.(verdict, outcome.latencyMs);
    const number = delivery.attempts + 1;
    const delay = verdict === 'delivered' ? null : nextRetryDelayMs(options.schedule, number);
    const record: AttemptRecord = {
      attemptId: randomUUID(),
      deliveryId: delivery.deliveryId,
      endpointId: delivery.endpointId,
      attempt: number,
      attemptedAt,
      latencyMs: outcome.latencyMs,
      responseStatus: outcome.kind === 'response' ? outcome.status : null,
      succeeded: verdict === 'delivered',
      error: describe(outcome),
      nextAttemptAt: delay === null ? null : new Date(attemptedAt.getTime() + delay),
    };
    await recordAttempt(options.pool, record);
    if (verdict === 'gone') {
      await markEndpointDisabled(options.pool, delivery.endpointId);
      await options.disable(
        delivery.endpointId,
        'gone',
        `the endpoint answered 410 Gone at ${attemptedAt.toISOString()}`,
      );
      return;
    }
    const failingFor = delivery.failingSince ? attemptedAt.getTime() - Date.parse(delivery.failingSince) : 0;
    if (verdict === 'retry' && failingFor >= options.disableAfterMs) {
      await markEndpointDisabled(options.pool, delivery.endpointId);
      await options.disable(
        delivery.endpointId,
        'failing',
        `no successful delivery since ${delivery.failingSince}; last: ${record.error ?? 'failed'}`,
      );
    }
  }

  function start(delivery: DueDelivery) {
    busy.set(delivery.endpointId, (busy.get(delivery.endpointId) ?? 0) + 1);
    const task = attempt(delivery)
      .catch((error: unknown) =>
        // The lease runs out and the delivery is sent again (same webhook-id): at least once.
        options.log.error({ err: error, webhookId: delivery.deliveryId }, 'recording a webhook attempt failed'),
      )
      .finally(() => {
        const left = (busy.get(delivery.endpointId) ?? 1) - 1;
        if (left <= 0) busy.delete(delivery.endpointId);
        else busy.set(delivery.endpointId, left);
        running.delete(task);
        wake();
      });
    running.add(task);
  }

  async function tick() {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      do {
        again = false;
        const free = options.concurrency - running.size;
        if (stopped || free <= 0) break;
        const due = await claimDueDeliveries(options.pool, {
          limit: free,
          perEndpoint: options.endpointConcurrency,
          busy: Object.fromEntries(busy),
          leaseMs: options.leaseMs,
        });
        for (const delivery of due) start(delivery);
        if (due.length === free) again = true;
      } while (again && !stopped);
    } catch (error) {
      options.log.warn({ err: error }, 'claiming webhook deliveries failed; trying again');
    } finally {
      ticking = false;
    }
  }

  function wake() {
    if (!stopped) void tick();
  }

  const timer = setInterval(wake, options.pollMs);
  wake();
  return {
    get inFlight() {
      return running.size;
    },
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}
