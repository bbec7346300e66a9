/** Every error code the library throws has a section in docs/errors.md, and every documented code exists. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ERROR_FILES = ['src/errors.ts', 'src/vitest/errors.mts'];

const codes = new Set(
  ERROR_FILES.flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!)),
);
const docs = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
const documented = new Set([...docs.matchAll(/^#+ `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!));

it('finds the error codes at all', () => {
  expect(codes.size).toBeGreaterThan(30);
  expect(codes).toContain('REDIS_BINARY_NOT_FOUND');
});

it('documents every error code in a section of docs/errors.md', () => {
  expect([...codes].filter((c) => !documented.has(c))).toEqual([]);
});

it('documents no code that the library does not have', () => {
  expect([...documented].filter((c) => !codes.has(c))).toEqual([]);
});
