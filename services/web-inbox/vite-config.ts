// The inbox's Vite configuration, shared by `vite build` (vite.config.ts) and ensureBuilt().
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

export const inboxViteConfig = {
  root,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place; harmless, and noise in every build.
      onwarn(warning, warn) {
        if (warning.code !== 'INVALID_ANNOTATION') warn(warning);
      },
    },
  },
  server: {
    // `pnpm --filter @hatch/web-inbox dev` against a running stack.
    proxy: { '/api': process.env.HATCH_API_URL ?? 'http://127.0.0.1:8080' },
  },
} satisfies InlineConfig;
