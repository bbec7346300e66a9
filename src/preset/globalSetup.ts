import type { Config } from '@jest/types';
import { startServers } from './lifecycle';

/**
 * Jest globalSetup of the preset: validates options and starts one redis-server per worker.
 * With a globalSetup of your own, call this one from it:
 *
 * ```js
 * const cacheConsistencySetup = require('jest-cache-consistency/global-setup');
 * module.exports = async (globalConfig, projectConfig) => {
 *   await cacheConsistencySetup(globalConfig, projectConfig);
 *   // ...your own setup
 * };
 * ```
 */
async function globalSetup(globalConfig: Config.GlobalConfig, projectConfig: Config.ProjectConfig): Promise<void> {
  await startServers(globalConfig, projectConfig);
}

export = globalSetup;
