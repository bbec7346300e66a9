/**
 * The library's own tests run the preset from src/ (through ts-jest), so they need no build. The e2e test
 * checks the built, packed package the way users get it.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: '<rootDir>/src/preset/environment.ts',
  globalSetup: '<rootDir>/src/preset/globalSetup.ts',
  globalTeardown: '<rootDir>/src/preset/globalTeardown.ts',
  setupFilesAfterEnv: ['<rootDir>/src/setup.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/fixtures/'],
  testEnvironmentOptions: {
    cacheConsistency: { database: { schema: ['__tests__/fixtures/schema.sql'] } },
  },
};
