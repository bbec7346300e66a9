/** `redis: { cluster }`: a real Redis Cluster per worker, in a child Jest run on a fixture project. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster } from '../../src/server/cluster';
import { pingAndIdentify } from '../../src/server/redisServer';
import { REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(120_000);

it.each([0, 1])(
  'with 3 masters and %i replica(s) each: keys spread over every master, reset, capture, matchers, race helpers; nothing left after',
  async (replicas) => {
    const dir = mkdtempSync(join(tmpdir(), 'jcc-cluster-run-'));
    try {
      const portsFile = join(dir, 'ports.json');
      const r = await spawnJest(join(REPO, '__tests__', 'fixtures', 'cluster'), ['--no-cache'], {
        REPLICAS: String(replicas),
        PORTS_FILE: portsFile,
      }).done;
      expect(r.stderr).toContain('Tests:       9 passed, 9 total');
      expect(r.code).toBe(0);
      const nodes = JSON.parse(readFileSync(portsFile, 'utf8')) as Array<{ port: number }>;
      expect(nodes).toHaveLength(3);
      for (const { port } of nodes) await expect(pingAndIdentify(port)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

it('reports a cluster that cannot form as a start error, and stops the nodes it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-cluster-bad-'));
  const started: number[] = [];
  try {
    const err = await startRedisCluster({
      binary: '/usr/bin/redis-server',
      masters: 0,
      replicasPerMaster: 0,
      configDir: dir,
      onNode: (n) => started.push(n.port),
    }).catch((e) => e);
    expect(err.code).toBe('REDIS_SERVER_START_FAILED');
    expect(err.message).toContain('a cluster needs at least 1 master');
    expect(started).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
