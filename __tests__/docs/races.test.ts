/**
 * docs/races.md, the race catalogue, and the references to it: every row's links lead to files that exist and
 * cite that row, each row names a test that catches the race and a fix (or says there is none in the repository),
 * and every "docs/races.md #N" reference in the code, tests, snapshots, examples and docs names a row that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CATALOGUE = join(ROOT, 'docs', 'races.md');
const catalogue = readFileSync(CATALOGUE, 'utf8');

/** The rows of the catalogue's table: `| <a id="race-N"></a>N | name | interleaving | breaks | caught by | fix |`. */
interface Row {
  number: number;
  anchor: string;
  cells: string[];
}

function tableRows(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\|---/.test(l));
  const rows: Row[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    const m = /^<a id="(race-\d+)"><\/a>(\d+)$/.exec(cells[0] ?? '');
    rows.push({ number: m ? Number(m[2]) : NaN, anchor: m?.[1] ?? '', cells });
  }
  return rows;
}

const rows = tableRows(catalogue);
const rowNumbers = new Set(rows.map((r) => r.number));

/** Relative link targets in a piece of markdown: `[text](path#fragment)`. */
function links(markdown: string): Array<{ path: string; fragment: string }> {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => {
      const [path = '', fragment = ''] = target.split('#');
      return { path, fragment };
    });
}

/** The anchors a markdown file offers: GitHub's heading slugs and explicit `<a id>`s. */
function anchors(markdown: string): Set<string> {
  const slugs = [...markdown.matchAll(/^#+ (.+)$/gm)].map((m) =>
    m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );
  const ids = [...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!);
  return new Set([...slugs, ...ids]);
}

/** The row numbers a text cites: `docs/races.md #1`, `docs/races.md #5 and #6`, `races.md #1, #3 and #4`, `races.md#race-2`. */
function citedRows(text: string): number[] {
  const listed = [...text.matchAll(/races\.md #\d+(?:(?:, and |, | and )#\d+)*/g)].flatMap((m) => [...m[0].matchAll(/#(\d+)/g)].map((n) => Number(n[1])));
  const linked = [...text.matchAll(/races\.md#race-(\d+)/g)].map((m) => Number(m[1]));
  return [...listed, ...linked];
}

/** Every text file of the repository's own code, tests, snapshots, examples, benchmarks and docs. */
function repositoryFiles(): string[] {
  const files: string[] = [join(ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(?:[cm]?[jt]s|md|snap|json|sql)$/.test(name)) files.push(path);
    }
  };
  for (const dir of ['src', '__tests__', 'examples', 'docs', 'bench']) walk(join(ROOT, dir));
  return files;
}

const files = repositoryFiles().map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

describe('docs/races.md', () => {
  it('numbers its rows 1, 2, 3, ... each with its own anchor', () => {
    expect(rows.length).toBeGreaterThanOrEqual(11);
    expect(rows.map((r) => r.number)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.map((r) => r.anchor)).toEqual(rows.map((_, i) => `race-${i + 1}`));
    for (const row of rows) expect({ row: row.number, cells: row.cells.length }).toEqual({ row: row.number, cells: 6 });
  });

  it('links only files that exist, and anchors those files have', () => {
    const broken = links(catalogue).flatMap(({ path, fragment }) => {
      const target = path === '' ? CATALOGUE : resolve(dirname(CATALOGUE), path);
      if (!existsSync(target)) return [path];
      if (fragment && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(fragment)) return [`${path}#${fragment}`];
      return [];
    });
    expect(broken).toEqual([]);
  });

  it('names, for each row, a test that catches the race on a service with the bug, and the fix that passes (or says there is none)', () => {
    const isTest = (p: string) => /(?:^|\/)__tests__\/.+\.test\.[jt]s$/.test(p);
    const isService = (p: string) => p.startsWith('../examples/services/');
    const problems = rows.flatMap(({ number, cells: [, , , , caughtBy = '', fix = ''] }) => {
      const found: string[] = [];
      const caught = links(caughtBy).map((l) => l.path);
      if (!caught.some(isTest)) found.push(`#${number}: no test links in "caught by"`);
      if (!caught.some(isService) && !caughtBy.includes('no example service')) found.push(`#${number}: no service with the bug, and no "no example service"`);
      const fixed = links(fix).map((l) => l.path);
      if (!(fixed.some(isService) && fixed.some(isTest)) && !fix.includes('no example in the repository')) {
        found.push(`#${number}: the fix links no service and passing test, and does not say "no example in the repository"`);
      }
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('links, from each row, only example and test files that cite that row', () => {
    const uncited = rows.flatMap(({ number, cells }) =>
      links(cells.slice(4).join(' '))
        .map((l) => l.path)
        .filter((p) => !p.endsWith('.md') && existsSync(resolve(dirname(CATALOGUE), p))) // a missing file: the test above
        .filter((p) => !citedRows(readFileSync(resolve(dirname(CATALOGUE), p), 'utf8')).includes(number))
        .map((p) => `#${number}: ${p}`),
    );
    expect([...new Set(uncited)]).toEqual([]);
  });
});

describe('references to docs/races.md', () => {
  it('are found at all (in the examples, the tests, their snapshots and the docs)', () => {
    const citing = files.filter((f) => f.path !== 'docs/races.md' && citedRows(f.text).length > 0).map((f) => f.path);
    expect(citing).toEqual(
      expect.arrayContaining([
        'examples/services/cacheAside.ts',
        'examples/__tests__/row02-invalidate-before-commit.test.ts',
        '__tests__/race/__snapshots__/everyInterleaving.test.ts.snap',
        'docs/race.md',
      ]),
    );
  });

  it('name rows that exist', () => {
    const dangling = files.flatMap((f) => citedRows(f.text).filter((n) => !rowNumbers.has(n)).map((n) => `${f.path}: #${n}`));
    expect(dangling).toEqual([]);
  });

  it('have replaced the outside catalogue and the issue numbers', () => {
    const outside = files.filter((f) => /RACES\.md/.test(f.text)).map((f) => f.path);
    const issues = files.flatMap((f) => [...f.text.matchAll(/\bissues? #?\d+/gi)].map((m) => `${f.path}: ${m[0]}`));
    expect({ outside, issues }).toEqual({ outside: [], issues: [] });
  });

  it('are linked from the README, the race helpers page and the examples', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](docs/races.md)');
    expect(readFileSync(join(ROOT, 'docs', 'race.md'), 'utf8')).toContain('](races.md)');
    expect(readFileSync(join(ROOT, 'examples', 'README.md'), 'utf8')).toContain('](../docs/races.md)');
  });
});
