// Tracing through the OpenTelemetry API only: when no SDK was started (the default) every call here is
// the API's no-op, so code can trace unconditionally. The SDK itself is started by tracing-register.ts.
// Trace context crosses the event log as W3C `traceparent`/`tracestate` in each event's metadata.
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracingConfigured } from './tracing-config.ts';

export type { Span } from '@opentelemetry/api';
export { SpanKind } from '@opentelemetry/api';

/** The W3C trace context as stored in event metadata and Kafka headers. */
export interface TraceCarrier {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** Span attribute names: ids, channel, provider and outcomes; never addresses or bodies. */
export const traceAttributes = {
  messageId: 'hatch.message.id',
  channel: 'hatch.channel',
  provider: 'hatch.provider',
  attempt: 'hatch.attempt',
  outcome: 'hatch.outcome',
  reason: 'hatch.reason',
  eventType: 'hatch.event.type',
  position: 'hatch.log.position',
  httpStatus: 'http.response.status_code',
} as const;

export { tracingConfigured };

const tracer = () => trace.getTracer('hatch');

/** Read once: the environment a process starts with decides whether it traces. */
const tracingOn = tracingConfigured();

/** The active span's context as metadata fields (empty when nothing is traced). */
export function traceMetadata(from: Context = context.active()): TraceCarrier {
  if (!trace.getSpan(from)) return {};
  const carrier: TraceCarrier = {};
  propagation.inject(from, carrier);
  return carrier.traceparent ? carrier : {};
}

/** The context a stored `traceparent` names (the root context when there is none). */
export function traceContextFrom(carrier: TraceCarrier | undefined | null): Context {
  if (!carrier?.traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

const linkTo = (carrier: TraceCarrier): Link | null => {
  const spanContext = trace.getSpanContext(traceContextFrom(carrier));
  return spanContext ? { context: spanContext } : null;
};

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Parent from stored trace context (an event's metadata); else the active span. */
  parent?: TraceCarrier | null;
  /** Other traces this work belongs to (e.g. the events of one projection batch). */
  links?: readonly TraceCarrier[];
}

/** Runs `work` in a new active span; an exception marks the span failed and is rethrown. */
export async function withSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent === undefined ? context.active() : traceContextFrom(options.parent);
  const links = (options.links ?? []).map(linkTo).filter((l): l is Link => l !== null);
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs `work` as a child of the trace an event carries (its metadata's `traceparent`): how a consumer of the
 * log (dispatcher, projector, relay, notifier) joins the request that appended the event.
 */
export const withEventSpan = <T>(
  name: string,
  metadata: TraceCarrier | null | undefined,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> => withSpan(name, { parent: metadata ?? null, attributes, kind: SpanKind.CONSUMER }, work);

/** Names the active HTTP server span after the matched route (`POST /api/messages/sms`). */
export function nameServerSpan(method: string, route: string | undefined) {
  const span = trace.getActiveSpan();
  if (!span || !route) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

/** `trace_id`/`span_id` of the active span, for every log line written inside one (a pino mixin). */
export function traceLogFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** What `recordEventSpans` needs of a recorded event. */
export interface TracedEvent {
  type: string;
  position: string;
  metadata: TraceCarrier;
}

/**
 * One finished span per traced event, in that event's trace, linked to the active span (the batch that
 * handled them together): how the projector's batches appear in each request's trace. Nothing when off.
 */
export function recordEventSpans(name: string, events: readonly TracedEvent[], startTime: number) {
  if (!tracingOn) return;
  const active = trace.getActiveSpan()?.spanContext();
  for (const event of events) {
    if (!event.metadata.traceparent) continue;
    tracer()
      .startSpan(
        `${name} ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          startTime,
          links: active ? [{ context: active }] : [],
          attributes: { [traceAttributes.eventType]: event.type, [traceAttributes.position]: event.position },
        },
        traceContextFrom(event.metadata),
      )
      .end();
  }
}
