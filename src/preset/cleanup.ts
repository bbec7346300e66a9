/** Where the runtime registers what must be closed once the whole test file is done (see environment.ts). */
export const CLEANUP = Symbol.for('jest-cache-consistency.cleanup');
export type CleanupSlot = { [CLEANUP]?: Array<() => Promise<void>> };
