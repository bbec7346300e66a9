/**
 * One glob, one meaning: a step pattern's `key` glob (gates, faults) matches a key exactly as
 * captureKeyspace's `match` and a `redact` key rule do, and as the server's own SCAN MATCH does: on the key's
 * bytes, so `?` is one byte of a non-ASCII character.
 */
import { captureKeyspace, race, testRedis } from '../../src';

const KEY = 'café:1'; // é is two bytes in UTF-8

const PATTERNS = ['caf?:1', 'caf??:1', 'caf*:1', 'caf[é]:1', 'café:?'];

async function serverMatches(pattern: string): Promise<boolean> {
  const [, keys] = (await testRedis().scan('0', 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
  return keys.includes(KEY);
}

async function captureMatches(pattern: string): Promise<boolean> {
  const snap = await captureKeyspace(testRedis(), { match: pattern });
  return JSON.stringify(snap).includes('caf');
}

async function redactMatches(pattern: string): Promise<boolean> {
  const snap = await captureKeyspace(testRedis(), { redact: pattern });
  return !JSON.stringify(snap).includes('secret');
}

async function gateMatches(pattern: string): Promise<boolean> {
  const r = race();
  const a = r.actor('a');
  const fault = a.failAt({ redis: 'SET', key: pattern });
  await a.redis.set(KEY, 'secret').catch(() => undefined);
  await r.close();
  return fault.injected;
}

test.each(PATTERNS)('the glob %j matches the non-ASCII key the same way in a fault pattern, a capture match, a redact rule and on the server', async (pattern) => {
  await testRedis().set(KEY, 'secret');
  const server = await serverMatches(pattern);
  expect({ capture: await captureMatches(pattern), redact: await redactMatches(pattern), fault: await gateMatches(pattern) }).toEqual({ capture: server, redact: server, fault: server });
});

test('the byte meaning is the one in force: `?` does not match a two-byte character, `??` does', async () => {
  await testRedis().set(KEY, 'secret');
  expect(await serverMatches('caf?:1')).toBe(false);
  expect(await gateMatches('caf?:1')).toBe(false);
  expect(await gateMatches('caf??:1')).toBe(true);
});
