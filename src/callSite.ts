import { resolve } from 'node:path';

/** The library's own folder (src/ or dist/): its frames are left out of a call site. */
const LIBRARY_ROOT = resolve(__dirname);

/**
 * The stack frames of the current call outside the library: where the user's code called it (for an error
 * that points at a missing `await` rather than at the library's hook that noticed it).
 */
export function callSite(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  return frames.filter((line) => !line.includes(LIBRARY_ROOT)).join('\n');
}
