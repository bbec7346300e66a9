import type { NewPlugin } from 'pretty-format';
import type * as Serializer from './serializer';
import { isKeyspaceSnapshot } from './types';

/**
 * The keyspace serializer as the preset registers it: `test` is the brand check (cheap, runs for every
 * printed value), and the printer itself loads on the first keyspace printed.
 */
export const lazyKeyspaceSerializer: NewPlugin = {
  test: isKeyspaceSnapshot,
  serialize(value, config, indentation, depth, refs, printer) {
    const { keyspaceSerializer } = require('./serializer') as typeof Serializer;
    return (keyspaceSerializer as NewPlugin).serialize(value, config, indentation, depth, refs, printer);
  },
};

/** The flag registerKeyspaceSerializer() sets on `expect`, so the serializer is never added twice. */
export const SERIALIZER_REGISTERED = Symbol.for('jest-cache-consistency.keyspace-serializer-registered');
