/**
 * docs/stacks.md cannot drift from the code the stack tests run: every ```ts block in it starts with a line
 * `// <path>` naming a file of this repository, and the rest of the block is, line for line, one region of that file
 * marked `// #region docs` ... `// #endregion docs`. Every such region of examples/stacks/ is shown, and every stack
 * file there has its test in __tests__/stacks/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const DOC = 'docs/stacks.md';

interface Block {
  readonly line: number;
  readonly path: string | undefined;
  readonly body: string;
}

/** The ```ts blocks of `markdown`, with their `// <path>` first line taken off. */
function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(body[0] ?? '');
    blocks.push({ line: start + 1, path: m?.[1], body: (m ? body.slice(1) : body).join('\n') });
  }
  return blocks;
}

/** The `// #region docs` ... `// #endregion docs` regions of `source` (markers' indentation ignored). */
function docRegions(source: string): string[] {
  const regions: string[] = [];
  let current: string[] | undefined;
  for (const line of source.split('\n')) {
    if (/^\s*\/\/ #region docs\s*$/.test(line)) current = [];
    else if (/^\s*\/\/ #endregion docs\s*$/.test(line)) {
      if (current) regions.push(current.join('\n'));
      current = undefined;
    } else current?.push(line);
  }
  return regions;
}

const markdown = readFileSync(join(REPO, DOC), 'utf8');
const blocks = tsBlocks(markdown);

describe(DOC, () => {
  it('has snippets', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b) => [`line ${b.line} (${b.path ?? 'no path'})`, b] as const))('the ts block at %s is a region of the file it names', (_, block) => {
    expect({ line: block.line, path: block.path }).toEqual({ line: block.line, path: expect.any(String) });
    const file = join(REPO, block.path!);
    expect(existsSync(file)).toBe(true);
    const regions = docRegions(readFileSync(file, 'utf8'));
    expect(regions.length).toBeGreaterThan(0);
    // The closest region is shown in the diff when none matches.
    const closest = regions.find((r) => r === block.body) ?? regions.find((r) => r.split('\n')[0] === block.body.split('\n')[0]) ?? regions[0];
    expect(block.body).toEqual(closest);
  });

  const stackFiles = readdirSync(join(REPO, 'examples', 'stacks')).filter((f) => /\.(ts|js|mjs|cjs)$/.test(f));

  it.each(stackFiles)('every docs region of examples/stacks/%s is shown in the page', (file) => {
    const shown = new Set(blocks.filter((b) => b.path === `examples/stacks/${file}`).map((b) => b.body));
    const regions = docRegions(readFileSync(join(REPO, 'examples', 'stacks', file), 'utf8'));
    expect(regions.filter((r) => !shown.has(r))).toEqual([]);
  });

  it.each(stackFiles.filter((f) => f !== 'lease.ts'))('examples/stacks/%s has its test in __tests__/stacks/', (file) => {
    const stack = file.replace(/\.(ts|js|mjs|cjs)$/, '');
    expect(existsSync(join(REPO, '__tests__', 'stacks', `${stack}.test.ts`))).toBe(true);
  });

  it('the checker fails on drift: a changed line, a missing path, an unmarked file', () => {
    const source = 'a\n// #region docs\nexport const x = 1;\n// #endregion docs\nb';
    expect(docRegions(source)).toEqual(['export const x = 1;']);
    const [ok, bad, none] = tsBlocks('```ts\n// examples/stacks/x.ts\nexport const x = 1;\n```\n```ts\n// examples/stacks/x.ts\nexport const x = 2;\n```\n```ts\nconst y = 1;\n```\n');
    expect(docRegions(source)).toContain(ok!.body);
    expect(docRegions(source)).not.toContain(bad!.body);
    expect(none!.path).toBeUndefined();
  });
});
