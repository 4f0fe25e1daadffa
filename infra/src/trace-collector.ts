// A small OTLP/HTTP receiver for local traces and tests: services export with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json to OTEL_EXPORTER_OTLP_ENDPOINT=<its url>; spans are kept in memory,
// optionally appended to a JSON-lines file, and printed as a text tree per trace (bin/trace).
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { z } from 'zod';

const anyValue: z.ZodType<unknown> = z.lazy(() =>
  z
    .object({
      stringValue: z.string().optional(),
      boolValue: z.boolean().optional(),
      intValue: z.union([z.string(), z.number()]).optional(),
      doubleValue: z.number().optional(),
      arrayValue: z.object({ values: z.array(anyValue).default([]) }).optional(),
    })
    .transform((v) => {
      if (v.stringValue !== undefined) return v.stringValue;
      if (v.boolValue !== undefined) return v.boolValue;
      if (v.intValue !== undefined) return Number(v.intValue);
      if (v.doubleValue !== undefined) return v.doubleValue;
      return v.arrayValue?.values ?? null;
    }),
);
const keyValues = z
  .array(z.object({ key: z.string(), value: anyValue }))
  .default([])
  .transform((list) => Object.fromEntries(list.map((kv) => [kv.key, kv.value])));
const nanos = z.union([z.string(), z.number()]).transform((v) => Number(BigInt(v) / 1000n) / 1000);

const otlpSpan = z.object({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().default(0),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: keyValues,
  links: z.array(z.object({ traceId: z.string(), spanId: z.string() })).default([]),
  status: z.object({ code: z.number().default(0) }).default({ code: 0 }),
});
export const otlpTraceRequest = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: keyValues }).default({ attributes: {} }),
        scopeSpans: z.array(z.object({ spans: z.array(otlpSpan).default([]) })).default([]),
      }),
    )
    .default([]),
});

/** One finished span as received (times in ms since the epoch). */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  service: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  error: boolean;
}

export function spansOf(request: z.infer<typeof otlpTraceRequest>): CollectedSpan[] {
  return request.resourceSpans.flatMap((resource) =>
    resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId || null,
        name: span.name,
        kind: span.kind,
        service: String(resource.resource.attributes['service.name'] ?? 'unknown'),
        startMs: span.startTimeUnixNano,
        endMs: span.endTimeUnixNano,
        attributes: span.attributes,
        links: span.links,
        error: span.status.code === 2,
      })),
    ),
  );
}

export interface TraceCollector {
  url: string;
  spans: CollectedSpan[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port) for POST /v1/traces in OTLP/JSON. */
export async function startTraceCollector(options: { port?: number; file?: string } = {}): Promise<TraceCollector> {
  const spans: CollectedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = req.headers['content-type']?.startsWith('application/json');
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !json) {
        res.writeHead(req.url === '/v1/traces' ? 415 : 404).end();
        return;
      }
      const parsed = otlpTraceRequest.safeParse(safeJson(Buffer.concat(chunks).toString('utf8')));
      if (!parsed.success) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"not OTLP/JSON"}');
        return;
      }
      const received = spansOf(parsed.data);
      spans.push(...received);
      if (options.file && received.length > 0)
        appendFileSync(options.file, received.map((s) => `${JSON.stringify(s)}\n`).join(''));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // A fresh clone has no .data/ until the stack first starts.
  if (options.file) mkdirSync(dirname(options.file), { recursive: true });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

const shownAttributes = [
  'hatch.message.id',
  'hatch.attempt',
  'hatch.outcome',
  'hatch.reason',
  'hatch.retry.after',
  'hatch.provider',
  'hatch.event.type',
  'http.response.status_code',
  'url.path',
  'messaging.destination.name',
];

/** One trace as an indented tree: service, span, duration, the attributes an operator reads first. */
export function traceTree(spans: readonly CollectedSpan[], traceId: string, options: { all?: boolean } = {}): string {
  // Connection checkouts are noise in a picture of one message (`all` keeps them).
  const hidden = (s: CollectedSpan) => !options.all && /^pg(?:-pool)?\.connect$/.test(s.name);
  const inTrace = spans.filter((s) => s.traceId === traceId).sort((a, b) => a.startMs - b.startMs);
  const ids = new Set(inTrace.map((s) => s.spanId));
  const children = new Map<string | null, CollectedSpan[]>();
  for (const span of inTrace) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const origin = inTrace[0]?.startMs ?? 0;
  const lines = [`trace ${traceId} (${inTrace.length} spans)`];
  const walk = (parent: string | null, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      if (hidden(span)) {
        walk(span.spanId, depth);
        continue;
      }
      const shown = shownAttributes
        .filter((key) => span.attributes[key] !== undefined)
        .map((key) => `${key.replace(/^hatch\./, '')}=${String(span.attributes[key])}`);
      lines.push(
        `${'  '.repeat(depth)}${span.error ? '✗' : '•'} [${span.service}] ${span.name}  +${Math.round(span.startMs - origin)}ms ${Math.max(0, Math.round(span.endMs - span.startMs))}ms${shown.length ? `  ${shown.join(' ')}` : ''}`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk(null, 1);
  return lines.join('\n');
}
