import { pathToFileURL } from 'node:url';
import { SyntheticModule } from 'node:vm';
import { ModuleLoadError } from '../errors';

/** Which option named the module: it heads the error and says what the module is for. */
export type UserModuleOption = 'database.schema' | 'consistency.contracts';

/** Codes of a `require` refused because the file is an ES module (Jest's runtime, Node's require(esm)). */
const NEEDS_IMPORT = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

function reasonOf(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!;
}

/**
 * Loads a module named by an option (a schema module, a contracts module) in a test file, the way the test
 * file's own runner loads code:
 * - `require` first. Under Jest that is the test file's `require`, which runs the project's transform
 *   (ts-jest, babel-jest, @swc/jest); under Vitest, Node's.
 * - When the file is an ES module (`require` refused it, or could not parse it in Jest's ESM mode: a `.mjs`, a
 *   `.js` of a `"type": "module"` package, or a file Jest treats as ESM through `extensionsToTreatAsEsm`, as
 *   ts-jest's ESM presets do for `.ts`), `import()`. This module is CommonJS, so under Jest that `import()` is
 *   Jest's own ESM loading (the runtime's dynamic-import hook, as for an `import()` in a test file), which
 *   transforms the file as it transforms ESM test files; it needs `--experimental-vm-modules`, like every ESM
 *   project under Jest. Under Vitest it is Node's.
 *
 * Anything else is a {@link ModuleLoadError} whose message names the fix.
 */
export async function loadUserModule(file: string, option: UserModuleOption): Promise<unknown> {
  try {
    return require(file);
  } catch (err) {
    if (!needsImport(err)) throw loadError(file, option, err);
  }
  try {
    return await import(pathToFileURL(file).href);
  } catch (err) {
    // Jest's dynamic-import hook refuses without Node's VM modules ("... ES Modules in the VM API ...").
    if (typeof SyntheticModule !== 'function' && /VM API|experimental-vm-modules/.test(reasonOf(err)))
      throw new ModuleLoadError(
        file,
        option,
        "it is an ES module, and Jest loads ES modules only with Node's VM modules",
        'Fix: run Jest with NODE_OPTIONS=--experimental-vm-modules (what Jest needs for ES modules: ' +
          'https://jestjs.io/docs/ecmascript-modules), or make the module CommonJS.',
        err,
      );
    throw loadError(file, option, err);
  }
}

/**
 * Whether `require` failed because the file is an ES module. Refused outright (ERR_REQUIRE_ESM, Node's
 * ERR_REQUIRE_ASYNC_MODULE), or, with VM modules on (Jest's ESM mode), a SyntaxError: Jest's `require` may run a
 * file it treats as ESM through the CommonJS transform, which fails to parse ESM-only syntax (top-level `await`).
 */
function needsImport(err: unknown): boolean {
  if (NEEDS_IMPORT.has((err as NodeJS.ErrnoException | null)?.code ?? '')) return true;
  return typeof SyntheticModule === 'function' && (err as Error | null)?.name === 'SyntaxError';
}

function loadError(file: string, option: UserModuleOption, err: unknown): ModuleLoadError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  // A TypeScript file that Node itself read (Vitest runs the library outside Vite, so nothing transforms it).
  const untransformed = code === 'ERR_UNKNOWN_FILE_EXTENSION' || ((err as Error | null)?.name === 'SyntaxError' && /\.[cm]?tsx?$/.test(file));
  const fix = untransformed
    ? 'Fix: if no transform ran on it (under Vitest, Node loads these modules as they are), write the module in ' +
      'JavaScript (CommonJS or an ES module); otherwise fix its syntax.'
    : `Fix: the module itself (its error is above, and its stack in \`cause\`), or the path in ${option}.`;
  return new ModuleLoadError(file, option, reasonOf(err), fix, err);
}
