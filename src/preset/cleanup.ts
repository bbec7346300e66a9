/** Where the runtime registers what must be closed once the whole test file is done (see environment.ts). */
export const CLEANUP = Symbol.for('jest-cache-consistency.cleanup');
export type CleanupSlot = { [CLEANUP]?: Array<() => Promise<void>> };

/**
 * Set by the preset's environment on every test file's global: whether this is the first test file this
 * process runs. The runtime then empties Redis only for files that asked for it (see resetTestContext);
 * without it (another environment, Vitest) Redis is emptied before every test.
 */
export const FILE_INFO = Symbol.for('jest-cache-consistency.file-info');
export interface FileInfo {
  firstFileInProcess: boolean;
  /**
   * Whether the file has asked for its Redis server. On the file's global, not in a module: a file that calls
   * jest.resetModules() or jest.isolateModules() gets a second copy of the runtime module, whose testRedis()
   * the setup file's copy must still see.
   */
  redisHandedOut: boolean;
  /** Whether Redis has been emptied since the file started. */
  redisEmptied: boolean;
}
export type FileInfoSlot = { [FILE_INFO]?: FileInfo };
