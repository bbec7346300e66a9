import { stopServers } from './lifecycle';

/**
 * Jest globalTeardown of the preset: stops every redis-server globalSetup started. With a globalTeardown of
 * your own, call this one from it (`require('jest-cache-consistency/global-teardown')`).
 */
async function globalTeardown(): Promise<void> {
  await stopServers();
}

export = globalTeardown;
