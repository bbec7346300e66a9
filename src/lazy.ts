/**
 * A function that loads its implementation on first call, with the implementation's exact type (generics and
 * overloads included). `this` is passed through. Used by the public entry point to keep `import` cheap.
 */
export function lazyFunction<F extends (...args: never[]) => unknown>(load: () => F): F {
  let impl: F | undefined;
  return function (this: unknown, ...args: unknown[]): unknown {
    impl ??= load();
    return (impl as unknown as (...a: unknown[]) => unknown).apply(this, args);
  } as unknown as F;
}
