/**
 * Faults as data: a rule says which step of which actor fails, when, and with what error. Both `race()`
 * (`actor.failAt`) and `everyInterleaving` (`faults`) hand their rules to a FaultPlan, which counts the
 * matching steps and says which one to fail; the step runner (runStep.ts) injects it.
 */
import { InjectedFaultError } from '../../errors';
import type { StepInfo } from '../step';
import { stepMatches, type StepPattern } from './stepPattern';

export interface FaultRule {
  readonly actor: string;
  readonly at: StepPattern;
  /** 1-based: the nth step of that actor matching `at`. */
  readonly nth: number;
  /** 'before': never sent. 'after': runs, then the reply is lost. */
  readonly when: 'before' | 'after';
  /** The error the call rejects with, or a function making it; undefined (or a function returning it): an InjectedFaultError. */
  readonly error?: unknown;
}

/** The error a fault injects into the step described by `description`. */
export function faultError(rule: FaultRule, description: string): unknown {
  const made = typeof rule.error === 'function' ? (rule.error as () => unknown)() : rule.error;
  return made ?? new InjectedFaultError(description);
}

/** Counts each rule's matching steps; one plan per schedule (everyInterleaving) or per race (race()). */
export class FaultPlan {
  readonly #rules: FaultRule[];
  readonly #counts = new Map<FaultRule, number>();
  readonly #injected = new Map<FaultRule, StepInfo>();

  constructor(rules: readonly FaultRule[] = []) {
    this.#rules = [...rules];
  }

  add(rule: FaultRule): void {
    this.#rules.push(rule);
  }

  /** The rule that fails this step (counted as one more match of every rule it reaches), or undefined. */
  take(info: StepInfo): FaultRule | undefined {
    for (const rule of this.#rules) {
      if (rule.actor !== info.actor || this.#injected.has(rule) || !stepMatches(rule.at, info)) continue;
      const n = (this.#counts.get(rule) ?? 0) + 1;
      this.#counts.set(rule, n);
      if (n === rule.nth) {
        this.#injected.set(rule, info);
        return rule;
      }
    }
    return undefined;
  }

  /** The step `rule` was injected into, once it was. */
  injectedInto(rule: FaultRule): StepInfo | undefined {
    return this.#injected.get(rule);
  }
}
