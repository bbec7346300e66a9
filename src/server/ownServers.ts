import { readState } from '../preset/state';

/**
 * The redis-servers this library started (startRedisServer), by their `run_id` (INFO server: 40 random hex
 * characters chosen by the server at start-up, so no other server answers with it). Only on these does a
 * keyspace capture take an RDB snapshot (SAVE into the server's private folder): never on a server of yours.
 *
 * Servers started in this process are registered here; the preset's servers, started in Jest's own process,
 * reach the test workers through the preset's state (`ownServers`).
 */
export interface OwnServer {
  readonly runId: string;
  /** The private folder the server was started with (`--dir`), where SAVE writes `dump.rdb`. */
  readonly dir: string;
}

const started = new Map<string, OwnServer>();

export function registerOwnServer(server: OwnServer): void {
  started.set(server.runId, server);
}

export function unregisterOwnServer(runId: string): void {
  started.delete(runId);
}

/** True when some server may be the library's own: a capture then asks a server for its run_id. */
export function mayHaveOwnServers(): boolean {
  return started.size > 0 || (readState()?.ownServers?.length ?? 0) > 0;
}

/** The library's own server with this run_id, if it is one. */
export function ownServer(runId: string): OwnServer | undefined {
  return started.get(runId) ?? readState()?.ownServers?.find((s) => s.runId === runId);
}
