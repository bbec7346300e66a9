/**
 * The `redact` rules applied to race steps before they are printed (timeline, last writers, outcomes, gate
 * and fault messages). A step's own data (`StepRecord.args`, `outcome`) keeps the real values; only what is
 * printed is redacted. The rules mean what they mean for a keyspace capture (docs/configuration.md#redact):
 *
 * - a key whose whole value is secret (`'session:*'`, `{ key }`, a RegExp matching the key name): every
 *   argument of the command that is not a key or an option word (`EX 60`, `NX`, ...) is replaced, and so is the
 *   reply, except `null`, `OK`/`QUEUED` and counts (`DEL -> 1`, `EXPIRE -> 1`; an `INCR` reply is the value);
 * - a secret hash or stream field (`{ key, field }`, a RegExp): the value after it, in `HSET`/`HMSET`/`HSETNX`
 *   and `XADD` arguments, and in `HGET`/`HMGET`/`HGETALL`/`XRANGE`-like replies;
 * - JSON paths and property names: inside every argument and reply holding a JSON object or array, and in SQL
 *   parameters and result rows (as JSON values: `$` is a row); rules limited to a `key` apply to Redis only.
 *
 * Every value replaced is remembered, and the whole report is scrubbed of it at the end (an actor returning
 * the secret it read, an error quoting it).
 */
import { keyIndexes } from '../instrument/redisSteps';
import { InvalidRaceScenarioError } from '../../errors';
import { REDACTED, Redaction, redactList, type RedactRule } from '../../keyspace/redact';
import { presetRedactRules } from '../../preset/state';
import { formatRedisCommand, formatSql, redisText } from '../instrument/labels';
import type { StepInfo, StepOutcome } from '../step';

/** Arguments that are syntax, not data, when a key's whole value is secret: kept readable. */
const OPTION_WORDS = new Set([
  'EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL', 'NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'GET', 'WITHSCORES', 'WITHVALUES',
  'LIMIT', 'COUNT', 'MATCH', 'TYPE', 'NOMKSTREAM', 'MAXLEN', 'MINID', 'BEFORE', 'AFTER', 'LEFT', 'RIGHT', '~', '=',
]);
/** Options whose next argument is a number that is syntax too (`EX 60`). */
const NUMBER_AFTER = new Set(['EX', 'PX', 'EXAT', 'PXAT', 'LIMIT', 'COUNT', 'MAXLEN', 'MINID']);
/** Commands whose integer reply is the (secret) value itself, not a count. */
const VALUE_REPLIES = new Set(['INCR', 'INCRBY', 'DECR', 'DECRBY', 'HINCRBY', 'INCRBYFLOAT', 'HINCRBYFLOAT', 'ZINCRBY', 'ZSCORE', 'EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);
/** Hash writes: field-value pairs after the key. */
const HASH_WRITES = new Set(['HSET', 'HMSET', 'HSETNX']);
/** Replies made of field-value pairs (flat, an object or a Map). */
const PAIR_REPLIES = new Set(['HGETALL', 'HRANDFIELD', 'XRANGE', 'XREVRANGE', 'XREAD', 'XREADGROUP', 'XCLAIM', 'XAUTOCLAIM']);

function keyPositions(command: string, args: readonly unknown[]): Set<number> {
  return new Set(keyIndexes(command, args) ?? []);
}

/** Where XADD's field-value pairs start (after the key, NOMKSTREAM, MAXLEN/MINID [=|~] n [LIMIT n], id). */
function xaddPairsStart(args: readonly string[]): number {
  let i = 1;
  if (args[i]?.toUpperCase() === 'NOMKSTREAM') i++;
  if (['MAXLEN', 'MINID'].includes(args[i]?.toUpperCase() ?? '')) {
    i++;
    if (args[i] === '=' || args[i] === '~') i++;
    i++;
    if (args[i]?.toUpperCase() === 'LIMIT') i += 2;
  }
  return i + 1;
}

export class StepRedactor {
  constructor(readonly redaction: Redaction) {}

  get active(): boolean {
    return this.redaction.active;
  }

  /** One Redis command's arguments as they may be printed (undefined: nothing to hide). */
  redisArgs(command: string, raw: readonly unknown[]): string[] | undefined {
    const r = this.redaction;
    const args = raw.map(redisText);
    const keys = keyPositions(command, raw);
    const keyNames = [...keys].map((i) => args[i]!);
    const upper = command.toUpperCase();
    let changed = false;
    const out = [...args];
    const hide = (i: number) => {
      if (out[i] === REDACTED) return;
      out[i] = r.hide(args[i]);
      changed = true;
    };
    if (keyNames.some((k) => r.isWhole(k))) {
      if (upper === 'MSET' || upper === 'MSETNX') {
        for (let i = 0; i + 1 < args.length; i += 2) if (r.isWhole(args[i]!)) hide(i + 1);
      } else {
        let after: string | undefined;
        args.forEach((a, i) => {
          const word = a.toUpperCase();
          const isOption = OPTION_WORDS.has(word) || (after !== undefined && NUMBER_AFTER.has(after) && /^[-+]?\d+$/.test(a));
          after = word;
          if (!keys.has(i) && !isOption && !((upper === 'EVAL' || upper === 'EVALSHA' || upper === 'EVAL_RO' || upper === 'EVALSHA_RO') && i <= 1)) hide(i);
        });
      }
    }
    const key = keyNames[0];
    if (HASH_WRITES.has(upper) && key !== undefined) {
      for (let i = 1; i + 1 < args.length; i += 2) if (r.isSecretField(key, args[i]!)) hide(i + 1);
    }
    if (upper === 'XADD' && key !== undefined) {
      for (let i = xaddPairsStart(args); i + 1 < args.length; i += 2) if (r.isSecretField(key, args[i]!)) hide(i + 1);
    }
    out.forEach((a, i) => {
      if (a === REDACTED || keys.has(i)) return;
      const pairKey = upper === 'MSET' || upper === 'MSETNX' ? args[i - 1] : key;
      const v = r.value(pairKey, a);
      if (v !== a) {
        out[i] = String(v);
        changed = true;
      }
    });
    return changed ? out : undefined;
  }

  /** A Redis reply as it may be printed. */
  redisReply(command: string, raw: readonly unknown[], reply: unknown): unknown {
    const r = this.redaction;
    const upper = command.toUpperCase();
    const args = raw.map(redisText);
    const keyNames = [...keyPositions(command, raw)].map((i) => args[i]!);
    if (reply instanceof Error) return reply;
    if (keyNames.some((k) => r.isWhole(k))) return this.#hideWhole(upper, reply);
    const key = keyNames[0];
    if (key === undefined) return reply;
    if (upper === 'HGET' && args[1] !== undefined && r.isSecretField(key, args[1])) return reply === null ? null : r.hide(reply);
    if (upper === 'HMGET' && Array.isArray(reply)) {
      reply = reply.map((v, i) => (v !== null && args[i + 1] !== undefined && r.isSecretField(key, args[i + 1]!) ? r.hide(v) : v));
    }
    if (PAIR_REPLIES.has(upper)) reply = this.#pairs(key, reply, 0);
    return this.#json(key, reply, 0);
  }

  #hideWhole(command: string, reply: unknown): unknown {
    if (reply === null || reply === undefined) return reply;
    if (Array.isArray(reply)) return reply.map((v) => this.#hideWhole(command, v));
    if (typeof reply === 'number' || typeof reply === 'bigint') return VALUE_REPLIES.has(command) ? this.redaction.hide(reply) : reply;
    const text = typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : undefined;
    if (text === 'OK' || text === 'QUEUED') return reply;
    return this.redaction.hide(reply);
  }

  /** Field-value pairs (a flat array, nested ones in stream replies, an object, a Map) with secret fields hidden. */
  #pairs(key: string, reply: unknown, depth: number): unknown {
    const r = this.redaction;
    if (depth > 4 || reply === null || typeof reply !== 'object' || Buffer.isBuffer(reply)) return reply;
    if (Array.isArray(reply)) {
      const flat = reply.length % 2 === 0 && reply.every((v) => typeof v === 'string' || Buffer.isBuffer(v));
      if (flat) return reply.map((v, i) => (i % 2 === 1 && r.isSecretField(key, redisText(reply[i - 1])) ? r.hide(v) : v));
      return reply.map((v) => this.#pairs(key, v, depth + 1));
    }
    if (reply instanceof Map) return new Map([...reply].map(([f, v]) => [f, r.isSecretField(key, redisText(f)) ? r.hide(v) : this.#pairs(key, v, depth + 1)]));
    const out: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(reply)) out[f] = r.isSecretField(key, f) ? r.hide(v) : v;
    return out;
  }

  /** JSON objects and arrays inside a reply, with the paths and property names redacted. */
  #json(key: string | undefined, reply: unknown, depth: number): unknown {
    if (typeof reply === 'string' || Buffer.isBuffer(reply)) return this.redaction.value(key, reply);
    if (depth > 4 || reply === null || typeof reply !== 'object') return reply;
    if (Array.isArray(reply)) return reply.map((v) => this.#json(key, v, depth + 1));
    if (reply instanceof Map) return new Map([...reply].map(([f, v]) => [f, this.#json(key, v, depth + 1)]));
    const out: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(reply)) out[f] = this.#json(key, v, depth + 1);
    return out;
  }

  /** The step without its result, as it may be printed: `redis SET session:1 [REDACTED] EX 60`. */
  description(info: StepInfo): string {
    if (!this.active) return info.description;
    if (info.kind === 'redis' && info.batch) {
      let changed = false;
      const parts = info.batch.map(([name, ...args]) => {
        const shown = this.redisArgs(name, args);
        if (shown) changed = true;
        return formatRedisCommand(name, shown ?? args);
      });
      return changed ? `redis ${info.command} ${parts.join('; ')}` : info.description;
    }
    if (info.kind === 'redis') {
      const shown = this.redisArgs(info.command, info.args);
      return shown ? `redis ${formatRedisCommand(info.command, shown)}` : info.description;
    }
    if (info.kind === 'db' && info.sql !== undefined && info.args.length > 0) {
      const params = info.args.map((p) => this.#row(p));
      return params.some((p, i) => p !== info.args[i]) ? `db ${formatSql(info.sql, params)}` : info.description;
    }
    return info.description;
  }

  /** The step's outcome with its value as it may be printed (for `describeResult`). */
  outcome(info: StepInfo, outcome: StepOutcome): StepOutcome {
    if (!this.active || !outcome.ok) return outcome;
    if (info.kind === 'redis' && info.batch) {
      const replies = outcome.value;
      if (!Array.isArray(replies)) return outcome;
      const value = replies.map((reply, i) => {
        const cmd = info.batch![i];
        if (!cmd) return reply;
        const [name, ...args] = cmd;
        // ioredis pipelines reply [error, value] per command.
        if (Array.isArray(reply) && reply.length === 2 && (reply[0] === null || reply[0] instanceof Error)) return [reply[0], this.redisReply(name, args, reply[1])];
        return this.redisReply(name, args, reply);
      });
      return { ok: true, value };
    }
    if (info.kind === 'redis') return { ok: true, value: this.redisReply(info.command, info.args, outcome.value) };
    if (info.kind === 'db') return { ok: true, value: this.#dbResult(outcome.value) };
    return outcome;
  }

  /** A SQL parameter or a row: a JSON value of its own, with no key (rules limited to a key do not apply). */
  #row(value: unknown): unknown {
    return this.redaction.value(undefined, value);
  }

  #dbResult(value: unknown): unknown {
    if (Array.isArray(value)) {
      // mysql2: [rows | ResultSetHeader, fields]
      if (value.length === 2 && Array.isArray(value[0])) return [value[0].map((row) => this.#row(row)), value[1]];
      return value.map((row) => this.#row(row));
    }
    if (value && typeof value === 'object' && Array.isArray((value as { rows?: unknown }).rows)) {
      return { ...(value as object), rows: (value as { rows: unknown[] }).rows.map((row) => this.#row(row)) };
    }
    return value;
  }

  /** Free text (a label, an error message) with every value the rules replaced so far scrubbed. */
  scrub(text: string): string {
    return this.redaction.secrets.scrub(text);
  }

  scrubValue(value: unknown): unknown {
    return this.redaction.secrets.scrubValue(value);
  }
}

/**
 * The redactor of one race (race(), everyInterleaving, replay): the preset's rules, then the call's own
 * (`redact`, checked here: a bad rule is an INVALID_RACE_SCENARIO error naming it).
 */
export function raceRedactor(own: RedactRule | readonly RedactRule[] | undefined): StepRedactor {
  const rules = redactList(own);
  new Redaction(rules, (option, problem) => new InvalidRaceScenarioError(option, `${problem} (the rules of captureKeyspace's redact: docs/configuration.md#redact)`));
  return new StepRedactor(new Redaction([...presetRedactRules(), ...rules]));
}
