/** replay: exactly the choices of a token. */
import { ScheduleReplayMismatchError } from '../../../errors';
import type { Chooser, ScheduleResult } from '../run';
import type { TokenChoice } from '../token';
import type { Explorer } from './index';

export class ReplayExplorer implements Explorer {
  readonly name = 'replay';
  readonly complete = false;
  #used = false;
  constructor(
    readonly token: string,
    readonly choices: readonly TokenChoice[],
  ) {}
  next(): Chooser | undefined {
    if (this.#used) return undefined;
    this.#used = true;
    return {
      choose: (options, ctx) => {
        const want = this.choices[ctx.depth];
        if (!want) {
          throw new ScheduleReplayMismatchError(this.token, ctx.depth + 1, `the token ends, but steps are still pending (${options.map((o) => `${o.actor}: ${o.description}`).join(' | ')})`);
        }
        const i = options.findIndex((o) => o.actor === want.actor && o.ordinal === want.ordinal);
        if (i < 0) {
          throw new ScheduleReplayMismatchError(
            this.token,
            ctx.depth + 1,
            `the token runs ${want.actor}${want.ordinal ? `~${want.ordinal}` : ''}, but only ${options.map((o) => `${o.actor}${o.ordinal ? `~${o.ordinal}` : ''}`).join(', ')} can run`,
          );
        }
        return i;
      },
    };
  }
  done(result: ScheduleResult): void {
    if (result.choices.length < this.choices.length) {
      throw new ScheduleReplayMismatchError(this.token, result.choices.length + 1, `the schedule ended after ${result.choices.length} steps, the token has ${this.choices.length}`);
    }
  }
}
