// `pnpm build`: the production build into dist/ (see production-build.ts). Exits 1 when a bundle reaches
// development infrastructure or a package the production dependencies lack.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt } from '@hatch/web-inbox';
import {
  bundle,
  checkBundle,
  distDir,
  productionDependencies,
  productionEntries,
  relativeToRoot,
  sizeOf,
} from './production-build.ts';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

rmSync(distDir, { recursive: true, force: true });
const metafile = await bundle({ entries: productionEntries, outdir: distDir });
const { externals, violations } = checkBundle(metafile, productionDependencies());
if (violations.length) {
  process.stderr.write(`production build refused:\n${violations.map((v) => `  ${v}`).join('\n')}\n`);
  process.exit(1);
}
for (const [output, packages] of Object.entries(externals))
  process.stdout.write(
    `${output.padEnd(24)} ${kib(statSync(output).size).padStart(9)}  imports ${packages.join(', ')}\n`,
  );

await ensureBuilt({ distDir: join(distDir, 'web-inbox'), force: true });
process.stdout.write(`${'dist/web-inbox/'.padEnd(24)} ${kib(sizeOf(join(distDir, 'web-inbox'))).padStart(9)}\n`);
process.stdout.write(`${relativeToRoot(distDir)}/ ${kib(sizeOf(distDir))} (with source maps)\n`);
process.exit(0);
