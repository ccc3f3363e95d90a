import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'core/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // RSA_4096 generation and OpenSSL child processes are slow on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
