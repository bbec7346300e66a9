/** Where the runtime registers what must be closed once the whole test file is done (see environment.ts). */
export const CLEANUP = Symbol.for('jest-cache-consistency.cleanup');
export type CleanupSlot = { [CLEANUP]?: Array<() => Promise<void>> };

/**
 * Set by the preset's environment on every test file's global: whether this is the first test file this
 * process runs. The runtime then empties Redis only for files that asked for it (see resetTestContext);
 * without it (another environment, Vitest) Redis is emptied before every test.
 */
export const FILE_INFO = Symbol.for('jest-cache-consistency.file-info');
export type FileInfoSlot = { [FILE_INFO]?: { firstFileInProcess: boolean } };
