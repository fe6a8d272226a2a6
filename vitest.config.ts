import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (seconds) and slow integration tests (real data, full models,
// browsers). `pnpm test` runs both; `pnpm test:unit` only the fast ones.
export default defineConfig({
  test: {
    // Test models are tiny: a wasm thread pool's hand-offs cost more than their ops (7x slower at 2
    // threads). Tests of the pthreads build ask for threads explicitly.
    env: { WASM_THREADS: '1' },
    // Memory tests collect garbage before they measure, so they see what is retained, not what V8 has
    // yet to collect.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
