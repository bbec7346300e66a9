/** Where the runtime registers what must be closed once the whole test file is done (see environment.ts). */
export const CLEANUP = Symbol.for('jest-cache-consistency.cleanup');
export type CleanupSlot = { [CLEANUP]?: Array<() => Promise<void>> };

/**
 * Set by the preset's environment on every test file's global (see resetTestContext): what the runtime needs to
 * empty Redis only where it can matter. Without it (another environment, Vitest) Redis is emptied before
 * every test.
 */
export const FILE_INFO = Symbol.for('jest-cache-consistency.file-info');
export interface FileInfo {
  /** This worker process, shared by all its files: whether Redis has been emptied since it started. */
  worker: { redisEmptied: boolean };
  /**
   * Set once the file has asked for its Redis server, by the copy of the runtime that handed it out (it has
   * what emptying takes loaded); the environment calls it once the file is done, so the next file starts
   * empty. On the file's global, not in a module: a file that calls jest.resetModules() or
   * jest.isolateModules() gets a second copy of the runtime module, whose testRedis() the setup file's copy
   * must still see.
   */
  emptyRedis?: () => Promise<void>;
}
export type FileInfoSlot = { [FILE_INFO]?: FileInfo };
