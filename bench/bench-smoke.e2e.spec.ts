// CI smoke of every benchmark: each scenario of `bin/bench all --quick` (bench/plan.ts) as its own real
// process, one after another, on its own database from the test kit's PostgreSQL. Asserts the result's
// shape (bench/results.ts), never its figures: a shared 2-core CI machine says nothing about speed.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTestDatabase } from '@hatch/testing';
import { describe, expect, it } from 'vitest';
import { benchPlan, runScenario } from './plan.ts';
import { parseScenarioOutput, scenarioResultSchemas } from './results.ts';

const root = join(import.meta.dirname, '..');
// Where bin/bench peers looks (it runs from the repository's root).
const peersDir = resolve(root, process.env.PEERS_DIR ?? '../shared/peers');
const runs = benchPlan({ quick: true }).filter((run) => run.key !== 'peers-end');

describe('bin/bench scenarios (5-second smoke, shape only)', () => {
  it('covers every scenario that has a result schema', () => {
    expect(new Set(runs.map((r) => r.scenario))).toEqual(new Set(Object.keys(scenarioResultSchemas)));
  });

  for (const run of runs) {
    it(`${run.key}: bin/bench ${run.scenario} ${run.args.join(' ')}`, { timeout: 180_000 }, async (context) => {
      if (run.scenario === 'peers' && !existsSync(peersDir)) {
        const reason = `no peers folder at ${peersDir} (set PEERS_DIR to run the peers smoke)`;
        process.stderr.write(`[bench smoke] skipped peers: ${reason}\n`);
        context.skip(reason);
      }
      const db = await createTestDatabase();
      try {
        const out = await runScenario(run, {
          env: { ...process.env, DATABASE_URL: db.url, PEERS_DIR: peersDir },
          echo: false,
        });
        if (out.exitCode !== 0) process.stderr.write(out.stderrTail);
        expect(out.timedOut).toBe(false);
        expect(out.exitCode).toBe(0);
        const result = parseScenarioOutput(run.scenario, out.stdout);
        expect(result.scenario).toBe(run.scenario);
      } finally {
        await db.drop();
      }
    });
  }
});
