import { availableParallelism } from 'node:os';

/** The parts of Vitest's resolved root config that decide how many workers (and so pool ids) a run has. */
export interface WorkerCountConfig {
  watch?: boolean;
  fileParallelism?: boolean;
  maxWorkers?: number;
  poolOptions?: {
    threads?: { maxThreads?: number | string; singleThread?: boolean };
    vmThreads?: { maxThreads?: number | string; singleThread?: boolean };
    forks?: { maxForks?: number | string; singleFork?: boolean };
    vmForks?: { maxForks?: number | string; singleFork?: boolean };
  };
}

/**
 * How many servers to start: the most workers any of Vitest's pools may run at once, so every
 * VITEST_POOL_ID (1..that pool's maximum) has its own server. Mirrors Vitest's pools: maxWorkers (Vitest 4
 * resolves it to a number and has no poolOptions), Vitest 3's pool maxThreads/maxForks when larger, else CPUs - 1
 * (half the CPUs in watch mode); one without file parallelism. Counts every pool, used or not: an unused server costs a few milliseconds and megabytes.
 */
export function vitestWorkerCount(config: WorkerCountConfig, cpus: number = availableParallelism()): number {
  if (config.fileParallelism === false) return 1;
  const byDefault = config.watch ? Math.max(Math.floor(cpus / 2), 1) : Math.max(cpus - 1, 1);
  const pools = config.poolOptions ?? {};
  const counts = [
    config.maxWorkers ?? byDefault,
    pools.threads?.maxThreads,
    pools.vmThreads?.maxThreads,
    pools.forks?.maxForks,
    pools.vmForks?.maxForks,
  ].filter((n): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0);
  return Math.max(1, ...counts);
}
