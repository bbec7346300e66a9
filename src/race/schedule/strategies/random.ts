/** random: every decision uniformly at random, `runs` schedules, from `seed`. */
import type { Chooser } from '../run';
import type { Explorer } from './index';

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runSeed(seed: number, run: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(run + 1, 0x85ebca77)) >>> 0;
}

export class RandomExplorer implements Explorer {
  readonly name: string;
  readonly complete = false;
  #run = 0;
  constructor(
    readonly seed: number,
    readonly runs: number,
  ) {
    this.name = `random (seed ${seed}, ${runs} runs)`;
  }
  next(): Chooser | undefined {
    if (this.#run >= this.runs) return undefined;
    const rnd = prng(runSeed(this.seed, this.#run++));
    return { choose: (options) => Math.floor(rnd() * options.length) };
  }
  done(): void {}
}
