import { join } from 'node:path';

/**
 * The object `preset: 'jest-cache-consistency'` resolves to. Absolute paths only: nothing is written into,
 * or looked up in, the user's project folder.
 */
const preset = {
  testEnvironment: join(__dirname, 'environment.js'),
  globalSetup: join(__dirname, 'globalSetup.js'),
  globalTeardown: join(__dirname, 'globalTeardown.js'),
  setupFilesAfterEnv: [join(__dirname, '..', 'setup.js')],
};

export = preset;
