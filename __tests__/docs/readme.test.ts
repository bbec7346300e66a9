/**
 * The README's example is code that runs: its ```ts block under "## Use it" is compiled and run here as it is,
 * with `jest-cache-consistency` resolved to this package and its `../src/userCache` to a bundled example service.
 * With the classic cache-aside service it must catch the race (with a replay token); with the lease it must pass.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as lib from '../../src';
import { UserCache } from '../../examples/services/cacheAside';
import { LeaseUserCache } from '../../examples/services/leaseCache';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const usage = readme.slice(readme.indexOf('## Use it'));
const snippet = /```ts\n([\s\S]*?)```/.exec(usage)?.[1] ?? '';

/** Compiles the snippet and runs it with `test` captured; returns the tests it declared. */
function declaredTests(service: unknown): Array<{ name: string; fn: () => Promise<unknown> }> {
  const js = ts.transpileModule(snippet, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const modules: Record<string, unknown> = { 'jest-cache-consistency': lib, '../src/userCache': { UserCache: service } };
  const required = (name: string) => {
    if (!(name in modules)) throw new Error(`the README example imports ${name}: map it in readme.test.ts`);
    return modules[name];
  };
  const tests: Array<{ name: string; fn: () => Promise<unknown> }> = [];
  const capture = (name: string, fn: () => Promise<unknown>) => void tests.push({ name, fn });
  new Function('require', 'exports', 'test', 'expect', js)(required, {}, capture, expect);
  return tests;
}

/** The lease service with a fixed token: the race helpers need actors that do the same thing in every schedule. */
class FixedTokenLease extends LeaseUserCache {
  constructor(...args: ConstructorParameters<typeof UserCache>) {
    super(args[0], args[1], { token: () => 'lease-1' });
  }
}

it('finds the example in the README', () => {
  expect(snippet).toContain("from 'jest-cache-consistency'");
  expect(snippet).toContain('everyInterleaving');
});

it('with the cache-aside service, the README example fails with the stale order and a replay token', async () => {
  const [only, ...more] = declaredTests(UserCache);
  expect(more).toEqual([]);
  expect(only!.name).toBe('no interleaving of a read and a write leaves user:1 stale');
  const error = await only!.fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(lib.RaceFailureError);
  const failure = error as InstanceType<typeof lib.RaceFailureError>;
  expect(failure.message).toContain('stale: the cached value differs from a fresh read-through');
  expect(failure.token).toMatch(/^r1:/);
});

it('with the lease service, the README example passes every interleaving', async () => {
  const [only] = declaredTests(FixedTokenLease);
  await expect(only!.fn()).resolves.toBeUndefined();
});
