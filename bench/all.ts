// bin/bench all [--seconds N] [--quick] [--only key,key]: every scenario (bench/plan.ts), one after another, each as its own
// `bin/bench <scenario>` process, with the peers first and last. Writes bench/results/<time>.json (every
// result, machine info, `uptime` load before and after each run) and bench/results/<time>.md (the table,
// bench/report.ts), prints the table, and exits non-zero when any scenario failed (the rest still run).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchReport,
  type BenchRunRecord,
  benchPlan,
  benchReportSchema,
  type PlannedRun,
  runScenario,
} from './plan.ts';
import { renderMarkdown } from './report.ts';
import { parseScenarioOutput } from './results.ts';

const root = join(import.meta.dirname, '..');
const usage =
  'usage: bin/bench all [--seconds N] [--quick] [--only key,key]   (N: whole seconds ≥ 1; keys: the runs of bench/plan.ts)\n';
const parsed = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: { seconds: { type: 'string' }, quick: { type: 'boolean', default: false }, only: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    process.exit(2);
  }
})();
const quick = parsed.quick ?? false;
const seconds = parsed.seconds === undefined ? undefined : Number(parsed.seconds);
if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 1)) {
  process.stderr.write(usage);
  process.exit(2);
}

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const load = () => ({
  uptime: (() => {
    try {
      return execFileSync('uptime', { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  })(),
  loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
});

async function recordRun(run: PlannedRun): Promise<BenchRunRecord> {
  const command = `bin/bench ${run.scenario} ${run.args.join(' ')}`;
  process.stderr.write(`\n[all] ${run.key}: ${command}\n`);
  const loadBefore = load();
  const started = performance.now();
  const base = { key: run.key, scenario: run.scenario, label: run.label, command, loadBefore };
  try {
    const out = await runScenario(run);
    const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
    const finished = { ...base, exitCode: out.exitCode, wallSeconds, loadAfter: load() };
    let result: BenchRunRecord['result'];
    let parseError = '';
    try {
      result = parseScenarioOutput(run.scenario, out.stdout);
    } catch (error) {
      parseError = error instanceof Error ? error.message : String(error);
    }
    const failure = out.timedOut
      ? `timed out after ${run.timeoutSeconds} s`
      : out.exitCode !== 0
        ? `exited with ${out.exitCode}`
        : parseError
          ? `no valid result line: ${parseError}`
          : '';
    if (!failure) return { ...finished, ok: true, result };
    const lastLines = out.stderrTail.trim().split('\n').slice(-5).join('\n');
    return { ...finished, ok: false, ...(result ? { result } : {}), error: `${failure}\n${lastLines}` };
  } catch (error) {
    const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
    return { ...base, exitCode: null, wallSeconds, loadAfter: load(), ok: false, error: String(error) };
  }
}

const plan = benchPlan({ quick, ...(seconds ? { seconds } : {}) });
// --only: a subset of the runs by key (e.g. --only append,peers-start), to re-run part of the table.
const only = parsed.only?.split(',').map((k) => k.trim());
const unknown = only?.filter((k) => !plan.some((run) => run.key === k)) ?? [];
if (unknown.length) {
  process.stderr.write(`unknown run ${unknown.join(', ')}; runs: ${plan.map((r) => r.key).join(', ')}\n${usage}`);
  process.exit(2);
}
const startedAt = new Date();
const runs: BenchRunRecord[] = [];
for (const run of plan.filter((r) => !only || only.includes(r.key))) {
  const record = await recordRun(run);
  process.stderr.write(`[all] ${run.key}: ${record.ok ? 'ok' : `FAILED (${record.error?.split('\n')[0]})`}\n`);
  runs.push(record);
}

const cpus = os.cpus();
const report: BenchReport = benchReportSchema.parse({
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  quick,
  machine: {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    gitCommit: git('rev-parse', 'HEAD') || 'unknown',
    gitDirty: git('status', '--porcelain') !== '',
  },
  runs,
});
// A file name without colons: 2025-01-31T14-05-09Z.
const stamp = startedAt
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replaceAll(':', '-');
const dir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const markdown = renderMarkdown(report);
writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, `${stamp}.md`), markdown);
// The repository's formatter lays the files out as `pnpm lint` wants them, so a results pair can be committed as is.
const written = [join(dir, `${stamp}.json`), join(dir, `${stamp}.md`)];
try {
  execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', ...written], {
    cwd: root,
    stdio: 'ignore',
  });
} catch {
  process.stderr.write('[all] biome could not format the results (they are still written)\n');
}
process.stderr.write(`\n[all] wrote ${join(dir, `${stamp}.json`)} and .md\n\n`);
process.stdout.write(readFileSync(join(dir, `${stamp}.md`), 'utf8'));
process.exit(runs.every((r) => r.ok) ? 0 : 1);
