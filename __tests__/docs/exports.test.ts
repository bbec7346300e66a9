/**
 * Every value the package exports is documented: its name appears in docs/ (in the section with its example).
 * Error classes are also covered by their codes (errors.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../src';

const DOCS = join(__dirname, '..', '..', 'docs');
const docs = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(join(DOCS, f), 'utf8'))
  .join('\n');

const exported = Object.keys(lib).filter((name) => name !== '__esModule' && name !== 'default');

it('finds the exports at all', () => {
  expect(exported.length).toBeGreaterThan(50);
  expect(exported).toEqual(expect.arrayContaining(['testRedis', 'startRedisServer', 'everyInterleaving']));
});

it('names every exported value in docs/', () => {
  expect(exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(docs))).toEqual([]);
});
