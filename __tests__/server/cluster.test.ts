/** `redis: { cluster }`: a real Redis Cluster per worker, in a child Jest run on a fixture project. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      expect(r.stderr).toContain('Tests:       11 passed, 11 total');
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

it('refuses a redis-server older than 7.0 for cluster mode before starting any node, naming the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-cluster-old-'));
  const started: number[] = [];
  try {
    // A stand-in for Debian bullseye's redis-server 6.0: prints its version, starts nothing.
    const binary = join(dir, 'redis-server');
    writeFileSync(binary, '#!/bin/sh\necho "Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64 build=6d95e1af3a2c082a"\n', { mode: 0o755 });
    const err = await startRedisCluster({ binary, masters: 3, replicasPerMaster: 0, configDir: dir, onSpawn: (pid) => started.push(pid) }).catch((e) => e);
    expect(err.code).toBe('REDIS_SERVER_START_FAILED');
    expect(err.message).toContain('redis.cluster needs redis-server 7.0 or later');
    expect(err.message).toContain(`${binary} is 6.0.16`);
    expect(err.message).toContain('REDIS_SERVER_BINARY');
    expect(started).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
