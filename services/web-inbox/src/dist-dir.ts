// Where the built inbox lives. The production build (infra/src/production-build.ts) sets HATCH_BUILD at
// bundle time: the bundle serves the inbox built beside it (dist/web-inbox); from source it is the
// package's own dist, which the development run builds on demand.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const defaultDistDir =
  process.env.HATCH_BUILD === 'production' ? join(here, 'web-inbox') : join(here, '..', 'dist');
