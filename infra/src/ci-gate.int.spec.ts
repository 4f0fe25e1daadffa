// CI must be able to fail. Runs vitest itself, with the repository's global setup (embedded PostgreSQL,
// whose exit hooks once turned every failed run into exit code 0), on a fixture that fails and on one
// that passes, then runs the summary step .ci/run ends with on both reports.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'hatch-ci-gate-'));

function runFixture(fixture: 'failing' | 'passing') {
  const report = join(scratch, `${fixture}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, CI_GATE_FIXTURE: fixture, CI_GATE_REPORT: report };
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  const run = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', '.ci/fixtures/vitest.config.ts'],
    { cwd: root, env, encoding: 'utf8', timeout: 90_000 },
  );
  const summary = spawnSync(process.execPath, ['.ci/summary.mjs', report], { cwd: root, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr, summary };
}

describe('the CI gate', () => {
  it('a failing test makes vitest exit non-zero, and the summary step too', { timeout: 120_000 }, () => {
    const failing = runFixture('failing');
    expect(failing.status, failing.output).not.toBe(0);
    expect(failing.summary.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(failing.summary.status).toBe(1);
  });

  it('a passing run exits 0 with the same setup', { timeout: 120_000 }, () => {
    const passing = runFixture('passing');
    expect(passing.status, passing.output).toBe(0);
    expect(passing.summary.stdout.trim()).toBe('1 passed, 0 failed, 0 skipped');
    expect(passing.summary.status).toBe(0);
  });

  it('no report at all counts as a failure', () => {
    const missing = spawnSync(process.execPath, ['.ci/summary.mjs', join(scratch, 'absent.json')], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(missing.status).toBe(1);
    expect(missing.stdout.trim()).toBe('0 passed, 1 failed, 0 skipped');
  });
});
