// bin/trace: a local trace viewer with no Docker. `collect` receives OTLP/JSON on 127.0.0.1 and appends
// spans to a file; `show` prints one trace (by trace id or message id) as a text tree; `list` the latest.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from './service-process.ts';
import { type CollectedSpan, startTraceCollector, traceTree } from './trace-collector.ts';

const [command = 'help', ...args] = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
};
const file = option('file', process.env.HATCH_TRACE_FILE ?? join(repositoryRoot, '.data', 'traces.jsonl'));
const say = (line: string) => process.stdout.write(`${line}\n`);

const load = (): CollectedSpan[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as CollectedSpan)
    : [];

if (command === 'collect') {
  const port = Number(option('port', '4318'));
  const collector = await startTraceCollector({ port, file });
  say(`collecting OTLP/JSON traces at ${collector.url} into ${file}; start the stack with:`);
  say(`  OTEL_EXPORTER_OTLP_ENDPOINT=${collector.url} OTEL_EXPORTER_OTLP_PROTOCOL=http/json bin/start.sh`);
  say('then: bin/trace show <message id|trace id>   (Ctrl-C stops)');
  process.once('SIGINT', () => void collector.close().then(() => process.exit(0)));
} else if (command === 'show' && args[0]) {
  const spans = load();
  const wanted = args[0];
  const traceId =
    spans.find((s) => s.traceId === wanted)?.traceId ??
    spans.find((s) => s.attributes['hatch.message.id'] === wanted)?.traceId;
  if (!traceId) {
    process.stderr.write(`no trace for ${wanted} in ${file}\n`);
    process.exit(1);
  }
  say(traceTree(spans, traceId, { all: args.includes('--all') }));
} else if (command === 'list') {
  const roots = load().filter((s) => s.parentSpanId === null);
  for (const root of roots.slice(-20)) say(`${root.traceId}  [${root.service}] ${root.name}`);
} else {
  say(
    'usage: bin/trace collect [--port 4318] [--file F] | show <message id|trace id> [--all] [--file F] | list [--file F]',
  );
  process.exit(command === 'help' ? 0 : 2);
}
