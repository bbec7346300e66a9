/**
 * What every race holds while it runs (an everyInterleaving/replay session, a race()), so that nothing an actor
 * sends escapes it: the wire guard (wireGuard.ts), module-level clients bound on first use (autoBind.ts), and the
 * preset's embedded database bound (`testDb()` and its pool, as a service keeps them at module level) with every
 * other statement on it from inside an actor guarded. pg-mem runs in the process: no socket would show a statement
 * that bypassed the race.
 */
import type { TestDb } from '../../db/embedded';
import { installAutoBind } from './autoBind';
import { bindToActors } from './connections';
import { dbHandleKind } from './dbSteps';
import { guardEmbeddedDb, installWireGuard } from './wireGuard';

export class RaceGuards {
  readonly #unwire = installWireGuard();
  readonly #unbind = installAutoBind();
  readonly #embedded: TestDb | undefined;
  #unguardMem: (() => void) | undefined;
  #guardedMem: unknown;

  constructor(db: unknown) {
    this.#embedded = db !== undefined && dbHandleKind(db) === 'testDb' ? (db as TestDb) : undefined;
    try {
      if (this.#embedded) {
        bindToActors(this.#embedded);
        bindToActors(this.#embedded.pool);
      }
      this.followEmbedded();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Guards the pg-mem database the embedded handle holds now (the preset's reset may rebuild it). */
  followEmbedded(): void {
    if (!this.#embedded) return;
    const mem = this.#embedded.mem;
    if (mem === this.#guardedMem) return;
    this.#unguardMem?.();
    this.#guardedMem = mem;
    this.#unguardMem = guardEmbeddedDb(mem);
  }

  close(): void {
    this.#unguardMem?.();
    this.#unguardMem = undefined;
    this.#unbind();
    this.#unwire();
  }
}
