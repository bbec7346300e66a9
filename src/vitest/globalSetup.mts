/**
 * jest-cache-consistency/vitest/global-setup: Vitest's `test.globalSetup`. Starts the same servers as the Jest
 * preset's globalSetup (one redis-server per worker under a watchdog, a cluster per worker, or a share of an
 * external server), from the options under `test.provide.cacheConsistency`, and provides them to the workers
 * (`inject('cacheConsistencyState')`, read by the setup file). Stops them when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { InvalidOptionsError } from '../errors.js';
import { startServers, stopServers } from '../preset/lifecycle.js';
import { readState } from '../preset/state.js';
import { vitestWorkerCount } from './workers.mjs';

const JEST_PATH = 'testEnvironmentOptions.cacheConsistency';
const VITEST_PATH = 'test.provide.cacheConsistency';

/** The shared validation names Jest's option path: name the one a Vitest user wrote. */
function forVitest(err: unknown): unknown {
  if (!(err instanceof InvalidOptionsError) || !err.path.startsWith(JEST_PATH)) return err;
  const path = VITEST_PATH + err.path.slice(JEST_PATH.length);
  const head = `[${err.code}] Invalid option ${err.path}: `;
  const tail = '\nSee docs/configuration.md for every option.';
  if (!err.message.startsWith(head) || !err.message.endsWith(tail)) return err;
  return new InvalidOptionsError(path, err.message.slice(head.length, err.message.length - tail.length));
}

export async function setup(project: TestProject): Promise<void> {
  const root = project.config.root;
  const options = project.config.provide?.cacheConsistency;
  // maxWorkers and poolOptions are root-level settings in Vitest: read them from the root config.
  const workers = vitestWorkerCount(project.vitest.config);
  try {
    // A second project of the same run finds the servers running and reuses them (one set per run).
    await startServers({ maxWorkers: workers, rootDir: root }, { testEnvironmentOptions: { cacheConsistency: options }, rootDir: root });
  } catch (err) {
    throw forVitest(err);
  }
  project.provide('cacheConsistencyState', readState());
}

export async function teardown(): Promise<void> {
  await stopServers();
}
