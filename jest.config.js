/**
 * Three projects, so each kind of test can run alone:
 * - unit: pure logic under src/, no server, no database;
 * - simulator: the Proxmox VE simulator's suite and the adapters tested
 *   against it over the network (`*.sim.spec.ts` under src/);
 * - e2e: the real application on PostgreSQL and Redis (their global setup
 *   and teardown run only when an e2e test is selected).
 */
const base = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/test/repository/**/*.spec.ts',
        '<rootDir>/test/web/**/*.spec.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '\\.sim\\.spec\\.ts$'],
    },
    {
      ...base,
      displayName: 'simulator',
      testMatch: ['<rootDir>/src/**/*.sim.spec.ts', '<rootDir>/test/pve-simulator/**/*.spec.ts'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/after-each-file.ts'],
    },
    {
      ...base,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
      globalSetup: '<rootDir>/test/browser/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/after-each-file.ts'],
    },
  ],
};
