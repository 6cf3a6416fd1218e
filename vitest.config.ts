import {defineConfig} from 'vitest/config'

// Three suites: pure unit tests (translator goldens among them), CLI tests that spawn the built bin/run.js, and
// integration tests against real kube-apiservers that the global setup starts once (test/env/global-setup.ts).
export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {test: {name: 'unit', include: ['test/unit/**/*.test.ts']}},
      {test: {name: 'cli', include: ['test/cli/**/*.test.ts'], testTimeout: 60_000}},
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
