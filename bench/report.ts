// The Markdown table of a `bin/bench all` run: each figure beside its target from issue 21 and beside the
// same run's reference (the raw PostgreSQL group-commit floor, Emmett), with a met / not-met column.
import type { BenchReport, BenchRunRecord } from './plan.ts';
import type { Scenario, ScenarioResult } from './results.ts';

type Met = boolean | null;
interface Row {
  run: string;
  figure: string;
  value: string;
  target: string;
  reference: string;
  met: Met;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const msText = (x: number | null) => (x === null ? '—' : `${x.toLocaleString('en-US')} ms`);
const ratio = (x: number, of: number | null) => (of ? `${(x / of).toFixed(2)}×` : '—');
const metText = (met: Met) => (met === null ? '—' : met ? 'met' : '**not met**');

function resultOf<S extends Scenario>(run: BenchRunRecord, scenario: S): ScenarioResult<S> | null {
  return run.ok && run.result?.scenario === scenario ? (run.result as ScenarioResult<S>) : null;
}

/** The reference figures: the mean of the peers runs that succeeded (start and end). */
export function references(runs: BenchRunRecord[]) {
  const peers = runs.flatMap((r) => {
    const p = resultOf(r, 'peers');
    return p ? [p] : [];
  });
  const mean = (pick: (p: ScenarioResult<'peers'>) => number) =>
    peers.length ? peers.reduce((sum, p) => sum + pick(p), 0) / peers.length : null;
  return {
    floor: mean((p) => p.groupCommitFloor.eventsPerSec),
    single: mean((p) => p.singleCommitFloor.eventsPerSec),
    emmett: mean((p) => p.emmett.eventsPerSec),
  };
}

function rowsOf(run: BenchRunRecord, ref: ReturnType<typeof references>, all: BenchRunRecord[], cores: number): Row[] {
  const row = (figure: string, value: string, target: string, reference: string, met: Met): Row => ({
    run: run.label,
    figure,
    value,
    target,
    reference,
    met,
  });
  if (!run.ok) {
    // The failure and the scenario's last stderr line (usually what went wrong).
    const lines = (run.error ?? 'failed').trim().split('\n');
    const last = lines.length > 1 ? `: ${lines.at(-1)}` : '';
    const why = `${lines[0]}${last}`.slice(0, 200);
    return [row('FAILED', why.replaceAll('|', '\\|'), '—', '—', false)];
  }
  // "0.45× floor 24,794 ev/s", or nothing when that reference was not measured.
  const vs = (x: number, of: number | null, name: string) => (of ? `${ratio(x, of)} ${name} ${n(of)} ev/s` : '');
  const refs = (...parts: string[]) => parts.filter(Boolean).join('; ') || 'no peers reference';
  const peers = resultOf(run, 'peers');
  if (peers) {
    const start = all.find((r) => r.key === 'peers-start');
    const first = start && start !== run ? resultOf(start, 'peers') : null;
    const drift = first
      ? `; floor ${((peers.groupCommitFloor.eventsPerSec / first.groupCommitFloor.eventsPerSec - 1) * 100).toFixed(0)}% vs start`
      : '';
    return [
      row(
        'group-commit floor',
        `${n(peers.groupCommitFloor.eventsPerSec)} ev/s, p99 ${msText(peers.groupCommitFloor.p99Ms)}`,
        '—',
        `single commit ${n(peers.singleCommitFloor.eventsPerSec)} ev/s${drift}`,
        null,
      ),
      row('Emmett', `${n(peers.emmett.eventsPerSec)} ev/s, p99 ${msText(peers.emmett.p99Ms)}`, '—', '—', null),
    ];
  }
  const append = resultOf(run, 'append');
  if (append)
    return [
      row(
        'events/s',
        n(append.eventsPerSec),
        '≥ 0.7× floor',
        refs(vs(append.eventsPerSec, ref.floor, 'floor'), vs(append.eventsPerSec, ref.emmett, 'Emmett')),
        ref.floor === null ? null : append.eventsPerSec >= 0.7 * ref.floor,
      ),
      row('p99', msText(append.p99Ms), '< 10 ms', '—', append.p99Ms < 10),
    ];
  const send = resultOf(run, 'send');
  if (send)
    return [
      row(
        'requests/s',
        n(send.requestsPerSec),
        '≥ 0.25× floor',
        refs(vs(send.requestsPerSec, ref.floor, 'floor')),
        ref.floor === null ? null : send.requestsPerSec >= 0.25 * ref.floor,
      ),
      row('p99', `${msText(send.p99Ms)} (p50 ${msText(send.p50Ms)})`, '< 30 ms', '—', send.p99Ms < 30),
      row('errors', n(send.errors), '0', '—', send.errors === 0),
    ];
  const e2e = resultOf(run, 'e2e');
  if (e2e)
    return [
      row(
        'sustained msg/s',
        n(e2e.sustainedPerSec),
        `≥ offered ${n(e2e.offeredPerSec)}/s (±1%)`,
        `${n(e2e.accepted)} accepted in ${e2e.offeredSeconds} s (offered over ${e2e.seconds} s); overall ${n(e2e.messagesPerSec)}/s`,
        e2e.sustainedPerSec >= 0.99 * e2e.offeredPerSec,
      ),
      row(
        'p99',
        `${msText(e2e.p99Ms)} (p50 ${msText(e2e.p50Ms)}, max ${msText(e2e.maxMs)})`,
        '< 1 s',
        '—',
        e2e.p99Ms < 1000,
      ),
      row(
        'lost',
        n(e2e.lost),
        '0',
        `backlog at the drain's end ${n(e2e.undeliveredAtDrain)}; ${e2e.settled ? 'settled' : 'still moving at the timeout'}`,
        e2e.lost === 0 && e2e.failedAccepts === 0,
      ),
    ];
  const project = resultOf(run, 'project');
  if (project)
    return [
      row(
        'rebuild events/s',
        n(project.eventsPerSec),
        '≥ 25,000 on 1M events',
        refs(`${n(project.events)} events in ${project.seconds} s`, vs(project.eventsPerSec, ref.floor, 'floor')),
        project.eventsPerSec >= 25_000,
      ),
      row(
        'CPU per event',
        `projector ${project.cpuPerEventUs.projector} µs, PostgreSQL ${project.cpuPerEventUs.postgres ?? '?'} µs`,
        '—',
        project.cpuPerEventUs.postgres === null
          ? '—'
          : `${(project.cpuPerEventUs.projector + project.cpuPerEventUs.postgres).toFixed(1)} µs in all: ${cores} cores cap a rebuild near ${n((cores * 1e6) / (project.cpuPerEventUs.projector + project.cpuPerEventUs.postgres))} ev/s`,
        null,
      ),
    ];
  const lag = resultOf(run, 'project-lag');
  if (lag)
    return [
      row(
        'lag p99',
        `${msText(lag.lagP99Ms)} at ${n(lag.appendsPerSec)} appends/s`,
        '< 250 ms at 5,000/s (±1%)',
        `p50 ${msText(lag.lagP50Ms)}, max ${msText(lag.lagMaxMs)}`,
        // The same ±1% for a paced offer as the e2e rows: the writers pace to 5,000/s and land just under it.
        lag.lagP99Ms < 250 && lag.appendsPerSec >= 0.99 * 5000,
      ),
    ];
  const schedule = resultOf(run, 'schedule');
  if (schedule)
    return [
      row(
        'on time (≤ 1 s)',
        `${(schedule.onTimeShare * 100).toFixed(1)}% of ${n(schedule.offeredDuePerSec)} due/s`,
        '≥ 99% of 1,000 due/s',
        `taken p50 ${msText(schedule.takenP50Ms)}, p99 ${msText(schedule.takenP99Ms)} late`,
        schedule.onTimeShare >= 0.99 && schedule.offeredDuePerSec >= 1000,
      ),
    ];
  const query = resultOf(run, 'query');
  if (query) {
    const small = all.find((r) => r.key === 'query-10k');
    const smallResult = small && small !== run ? resultOf(small, 'query') : null;
    return [
      row(
        'page requests/s',
        n(query.requestsPerSec),
        smallResult ? '≥ 2,000, within 20% of 10k' : '≥ 2,000',
        `${smallResult ? `${ratio(query.requestsPerSec, smallResult.requestsPerSec)} of 10k; ` : ''}${n(query.serverCpuUsPerRequest)} µs CPU/request`,
        query.requestsPerSec >= 2000 && (!smallResult || query.requestsPerSec >= 0.8 * smallResult.requestsPerSec),
      ),
      row(
        'p99',
        `${msText(query.p99Ms)} (p50 ${msText(query.p50Ms)})`,
        '< 50 ms',
        `${query.connections} connections`,
        query.p99Ms < 50,
      ),
    ];
  }
  const stream = resultOf(run, 'stream');
  if (stream)
    return [
      row(
        'send p99 with streams',
        msText(stream.sendP99MsWithStreams),
        '—',
        `without streams ${msText(stream.sendP99MsWithoutStreams)}; ${stream.connected}/${stream.clients} streams`,
        null,
      ),
      row('delivery lag p99', msText(stream.deliveryLagP99Ms), '—', `p50 ${msText(stream.deliveryLagP50Ms)}`, null),
    ];
  const notify = resultOf(run, 'notify');
  if (notify)
    return [
      row(
        'healthy p99',
        msText(notify.healthyP99Ms),
        '—',
        `${n(notify.deliveredPerSec)} delivered/s; slow endpoint backlog ${n(notify.slowBacklog)}`,
        null,
      ),
      row(
        'lost',
        n(notify.lost),
        '0',
        `bad signatures ${n(notify.badSignatures)}`,
        notify.lost === 0 && notify.badSignatures === 0,
      ),
    ];
  return [row('result', JSON.stringify(run.result), '—', '—', null)];
}

export function renderMarkdown(report: BenchReport): string {
  const ref = references(report.runs);
  const m = report.machine;
  const lines = [
    `# bin/bench all — ${report.startedAt}${report.quick ? ' (--quick: small sizes, not the issue’s; met is indicative only)' : ''}`,
    '',
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, commit ${m.gitCommit.slice(0, 12)}${m.gitDirty ? ' (uncommitted changes)' : ''}.`,
    `References: the mean of the peers runs — group-commit floor ${ref.floor === null ? '—' : `${n(ref.floor)} ev/s`}, single commit ${ref.single === null ? '—' : `${n(ref.single)} ev/s`}, Emmett ${ref.emmett === null ? '—' : `${n(ref.emmett)} ev/s`}.`,
    '',
    '| run | figure | value | target | same run’s reference | met | load before → after |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const run of report.runs) {
    const load = `${run.loadBefore.loadavg[0]?.toFixed(1)} → ${run.loadAfter.loadavg[0]?.toFixed(1)}`;
    for (const r of rowsOf(run, ref, report.runs, report.machine.cores))
      lines.push(
        `| ${r.run} | ${r.figure} | ${r.value} | ${r.target} | ${r.reference} | ${metText(r.met)} | ${load} |`,
      );
  }
  const failed = report.runs.filter((r) => !r.ok).map((r) => r.key);
  lines.push('', failed.length ? `Failed: ${failed.join(', ')}.` : 'Every scenario ran.', '');
  return lines.join('\n');
}
