/**
 * loadUserModule: how schema and contracts modules named by options are loaded in a test file. This suite runs
 * under the repository's Jest without --experimental-vm-modules, which is the case the coded error is for; the
 * ES module path itself (TypeScript and .mjs modules under ts-jest's useESM) is tested on the packed package in
 * __tests__/e2e/pack.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModuleLoadError } from '../../src';
import { createEmbeddedDb } from '../../src/db/embedded';
import { loadUserModule } from '../../src/runtime/userModule';

const dir = mkdtempSync(join(tmpdir(), 'jcc-user-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

it('loads a CommonJS module with the test file\'s require', async () => {
  const mod = file('plain.js', 'module.exports = { answer: 42 };');
  expect(await loadUserModule(mod, 'consistency.contracts')).toEqual({ answer: 42 });
});

it('an ES module under Jest without VM modules is MODULE_LOAD_FAILED naming the flag', async () => {
  const mod = file('seed.mjs', 'export default async function seed() {}');
  const error = await loadUserModule(mod, 'database.schema').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ModuleLoadError);
  expect(error).toMatchObject({ code: 'MODULE_LOAD_FAILED', file: mod, option: 'database.schema' });
  expect((error as Error).message).toContain(`Cannot load the database.schema module ${mod}: it is an ES module`);
  expect((error as Error).message).toContain('NODE_OPTIONS=--experimental-vm-modules');
});

it('a module that throws while loading is MODULE_LOAD_FAILED with its error as the reason and cause', async () => {
  const mod = file('throws.js', "throw new Error('no config here');");
  const error = await loadUserModule(mod, 'consistency.contracts').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'MODULE_LOAD_FAILED', option: 'consistency.contracts' });
  expect((error as Error).message).toContain('no config here');
  expect((error as Error).message).toContain('the path in consistency.contracts');
  expect(((error as Error).cause as Error).message).toBe('no config here');
});

it('a TypeScript module that nothing transformed (Vitest: Node loads it) is MODULE_LOAD_FAILED saying to write JavaScript', async () => {
  // Jest's require runs the project's transform on .ts; a .cts outside the transform's pattern is what Vitest's Node sees.
  const mod = file('contracts.cts', 'const n: number = 1;\nmodule.exports = n;\n');
  const error = await loadUserModule(mod, 'consistency.contracts').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'MODULE_LOAD_FAILED' });
  expect((error as Error).message).toContain('write the module in JavaScript');
});

it('the embedded database reports an ES schema module it cannot load through query()', async () => {
  const db = createEmbeddedDb([file('schema-seed.mjs', 'export default async () => {};')]);
  await expect(db.query('SELECT 1')).rejects.toMatchObject({
    code: 'MODULE_LOAD_FAILED',
    message: expect.stringContaining('NODE_OPTIONS=--experimental-vm-modules'),
  });
});
