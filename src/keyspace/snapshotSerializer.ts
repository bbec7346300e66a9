/**
 * The keyspace serializer as a module, for Jest's `snapshotSerializers` option when the preset is not used:
 *   snapshotSerializers: ['jest-cache-consistency/serializer']
 */
import { keyspaceSerializer } from './serializer';

export const test = keyspaceSerializer.test;
export const serialize = keyspaceSerializer.serialize;
