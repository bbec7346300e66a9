/** Stack trimming for the errors the race helpers throw. */

/** Drops the race helpers' own frames from a stack, so Jest points at the test that ran the race. */
export function trimStack<E extends Error>(error: E): E {
  if (typeof error.stack === 'string') {
    const lines = error.stack.split('\n');
    const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
    if (firstFrame > 0) {
      const frames = lines.slice(firstFrame).filter((l) => !/[\\/]race[\\/](?:[a-z]+[\\/]){0,2}[A-Za-z]+\.(?:ts|js)/.test(l));
      error.stack = [...lines.slice(0, firstFrame), ...frames].join('\n');
    }
  }
  return error;
}
