import { truncateLongLines } from '../../src';

it('leaves a message with short lines alone', () => {
  const text = 'line one\n- a\n+ b';
  expect(truncateLongLines(text, 20)).toBe(text);
});

it('cuts a long line with a note of what was left out', () => {
  const text = `head\n  "k" (string) "${'x'.repeat(200)}"\ntail`;
  expect(truncateLongLines(text, 40)).toMatchInlineSnapshot(`
"head
  "k" (string) "xxxxxxxxxxxxxxxxxxxxxxxx …[177 characters not shown]
tail

(1 long line cut above; the snapshot holds every value whole)"
`);
});

it('cuts a changed pair of lines around their first difference, so the change stays visible', () => {
  const before = 'a'.repeat(500) + 'OLD' + 'b'.repeat(500);
  const after = 'a'.repeat(500) + 'NEW' + 'b'.repeat(500);
  const out = truncateLongLines(`- "k" (string) "${before}"\n+ "k" (string) "${after}"`, 120);
  const [minus, plus] = out.split('\n');
  expect(minus).toContain('OLD');
  expect(plus).toContain('NEW');
  expect(minus!.length).toBeLessThan(260);
  expect(out).toMatchInlineSnapshot(`
"- "k" (string) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa …[436 characters not shown]… aaaaaaaaaaaaaaaaaaaaOLDbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb …[464 characters not shown]
+ "k" (string) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa …[436 characters not shown]… aaaaaaaaaaaaaaaaaaaaNEWbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb …[464 characters not shown]

(2 long lines cut above; the snapshot holds every value whole)"
`);
});

it('keeps the colour of a cut line', () => {
  const red = '\u001b[31m';
  const out = truncateLongLines(`${red}- ${'z'.repeat(100)}\u001b[39m`, 10).split('\n')[0]!;
  expect(out.startsWith(`${red}- zzzzzzzz`)).toBe(true);
  expect(out).toContain('\u001b[0m');
});
