// Builds the inbox's static files with Vite when dist is missing or older than its sources, so a
// fresh clone started with `bin/start.sh` serves a current inbox without a separate build step.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDistDir } from './dist-dir.ts';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time among the files the bundle is made of. */
function newestSourceMtime(): number {
  let newest = 0;
  const visit = (path: string) => {
    const info = statSync(path);
    if (info.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (!/\.spec\.ts$/.test(path)) {
      newest = Math.max(newest, info.mtimeMs);
    }
  };
  // The shared vocabulary is bundled too: a change there makes the build stale.
  for (const part of ['index.html', 'src', 'vite-config.ts', '../../packages/vocabulary/src']) {
    const path = join(packageDir, part);
    if (existsSync(path)) visit(path);
  }
  return newest;
}

export function isBuildStale(distDir = defaultDistDir): boolean {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  return statSync(index).mtimeMs < newestSourceMtime();
}

/**
 * Runs the Vite build into a scratch folder and swaps it in, so a concurrent reader never sees a
 * half-written dist. Returns whether it built.
 */
export async function ensureBuilt(options: { distDir?: string; force?: boolean } = {}): Promise<boolean> {
  const distDir = options.distDir ?? defaultDistDir;
  if (!options.force && !isBuildStale(distDir)) return false;
  const { build } = await import('vite');
  const { inboxViteConfig } = await import('../vite-config.ts');
  const scratch = `${distDir}.tmp-${randomUUID()}`;
  await build({
    ...inboxViteConfig,
    configFile: false,
    logLevel: 'warn',
    build: { ...inboxViteConfig.build, outDir: scratch },
  });
  const old = `${distDir}.old-${randomUUID()}`;
  try {
    if (existsSync(distDir)) await rename(distDir, old);
    await rename(scratch, distDir);
  } catch (error) {
    // Another process (a parallel test file, a second server) swapped its build in at the same moment:
    // theirs is as fresh as ours.
    await rm(scratch, { recursive: true, force: true });
    if (!existsSync(join(distDir, 'index.html'))) throw error;
  } finally {
    await rm(old, { recursive: true, force: true });
  }
  return true;
}
