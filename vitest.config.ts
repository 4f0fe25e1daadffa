import { defineConfig } from 'vitest/config';

// Three levels, named by the file suffix: `*.unit.spec.ts` start nothing (no PostgreSQL, seconds in all);
// `*.int.spec.ts` use real PostgreSQL (and Kafka where involved) in-process; `*.e2e.spec.ts` start real
// processes. `pnpm test` runs all three; `pnpm test:unit|int|e2e` one.
const realPostgres = ['./packages/testing/src/global-setup.ts'];

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '.tmp/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.unit.spec.ts'] } },
      { extends: true, test: { name: 'int', include: ['**/*.int.spec.ts'], globalSetup: realPostgres } },
      { extends: true, test: { name: 'e2e', include: ['**/*.e2e.spec.ts'], globalSetup: realPostgres } },
    ],
  },
});
