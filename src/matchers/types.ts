/**
 * The library's matchers, runner-neutral: augmentation files for Jest's global `expect`, `@jest/globals`
 * and Vitest extend their `Matchers<R>` with this interface. Every matcher here is async: `await` it.
 */
import type { KeyspaceSnapshotOptions } from './toMatchKeyspaceSnapshot';
import type { CaptureKeyspaceOptions } from '../keyspace/capture';

export interface CacheMatchers<R> {
  /**
   * Captures the received Redis client's keyspace (SCAN, every type, TTLs, values) and compares it with the
   * snapshot in `__snapshots__`, like `toMatchSnapshot`. Takes every `captureKeyspace` option
   * (`match`, `exclude`, `redact`, `ttl`, `decode`, `streamIds`) and a `hint`, or a hint string alone.
   *
   * Received must be an ioredis client or Cluster, or a connected node-redis v5 client.
   *
   * @example
   * await expect(redis).toMatchKeyspaceSnapshot();
   * await expect(redis).toMatchKeyspaceSnapshot({ match: 'user:*', redact: ['session:*', /token/] });
   * await expect(redis).toMatchKeyspaceSnapshot('after checkout');
   */
  toMatchKeyspaceSnapshot(optionsOrHint?: KeyspaceSnapshotOptions | string, hint?: string): Promise<R>;

  /**
   * Like {@link CacheMatchers.toMatchKeyspaceSnapshot}, with the snapshot written into the test file as the
   * last argument on the first run.
   *
   * @example
   * await expect(redis).toMatchInlineKeyspaceSnapshot();
   * await expect(redis).toMatchInlineKeyspaceSnapshot({ match: 'user:*' });
   */
  toMatchInlineKeyspaceSnapshot(options?: CaptureKeyspaceOptions, inlineSnapshot?: string): Promise<R>;
  toMatchInlineKeyspaceSnapshot(inlineSnapshot?: string): Promise<R>;
}
