/**
 * The races of the current test that are still open, for the preset's afterEach. Kept apart from race.ts so
 * that the setup file (loaded by every test file) does not load the race helpers themselves.
 */
export interface OpenRace {
  close(): Promise<void>;
}

const open = new Set<OpenRace>();

export function registerOpenRace(race: OpenRace): void {
  open.add(race);
}

export function forgetOpenRace(race: OpenRace): void {
  open.delete(race);
}

/** Whether the current test left a race open. */
export function anyOpenRaces(): boolean {
  return open.size > 0;
}

/**
 * Closes every race still open (the preset runs this after each test): their connections are closed, and the
 * first gate problem (GATE_NEVER_REACHED, GATE_NOT_RELEASED) is thrown, which fails the test. Nothing to do,
 * and nothing loaded, when the test opened no race.
 */
export async function closeOpenRacesIfAny(): Promise<void> {
  if (open.size === 0) return;
  let first: unknown;
  for (const race of [...open]) {
    try {
      await race.close();
    } catch (error) {
      first ??= error;
    } finally {
      open.delete(race);
    }
  }
  if (first) throw first;
}
