/**
 * The wire guard: while a race runs, every write on a network socket is looked at where it leaves the process
 * (`net.Socket.prototype.write`, which TLS sockets inherit), and so is every statement the session's embedded
 * pg-mem database executes. A granted step does its real I/O outside every actor (the step runner exits the
 * actor's context first), so a write or a statement made *inside* an actor's context is one the scheduler did
 * not grant: a client, ORM, pool or cache library the race does not control (another installed copy or major
 * of a client library, a pool's warm connection, a socket opened before the race, an adapter built on pg-mem).
 * It fails the run at once with RACE_UNINSTRUMENTED_IO naming the actor, the destination and what was sent
 * (decoded from the wire: a RESP command, a PostgreSQL Query/Parse message, a MySQL COM_QUERY/COM_STMT_PREPARE),
 * whatever the library then does with its reply or its errors (cache-manager swallows its store's errors: the
 * run fails anyway, because the failure goes to the scheduler, not through the library).
 *
 * The write itself still goes out: the library's own connection state (its reply queue) stays consistent, and
 * the schedule is abandoned and the starting state restored anyway.
 *
 * Not looked at: stdio (console output), and pipes whose bytes are not one of the three protocols (a child
 * process' stdin). Writes outside actors (the test's own code, the race's reset and check) pass untouched.
 */
import net = require('node:net');
import { statementText, TAKES_STATEMENTS } from '../../db/pgMemPool';
import { RaceUninstrumentedIoError } from '../../errors';
import { actorStorage, type ActorLink } from './actorLink';
import { isHousekeeping } from './redisSteps';

type Write = (this: net.Socket, chunk: unknown, ...rest: unknown[]) => boolean;
type End = (this: net.Socket, ...args: unknown[]) => net.Socket;

let installs = 0;
let originalWrite: Write | undefined;
let originalEnd: End | undefined;
let patchedWrite: Write | undefined;
let patchedEnd: End | undefined;

/**
 * The actor whose context this is, when a race controls it (under control, outside connection set-up): what runs
 * here and reaches a store must be one of its steps.
 */
export function controlledActor(): ActorLink | undefined {
  const link = actorStorage.getStore();
  if (link === undefined || link.controller === undefined || link.closed) return undefined;
  if (isHousekeeping()) return undefined;
  return link;
}

/** Per socket: the SQL of the PostgreSQL statements prepared on it by name (a Bind names only the statement). */
const prepared = new WeakMap<net.Socket, Map<string, string>>();

function check(socket: net.Socket, chunk: unknown): void {
  if (isPgParse(chunk)) notePrepared(socket, chunk);
  const link = controlledActor();
  if (link === undefined) return;
  const found = uninstrumentedWrite(link, socket, chunk);
  if (found) link.controller!.fail?.(found.error, answered(socket, found.protocol));
}

/** Sockets whose answer a failed run already waits for. */
const awaited = new WeakMap<net.Socket, Promise<void>>();

/** A PostgreSQL ReadyForQuery message (`Z`, length 5, the transaction status) ending a chunk: the answer is whole. */
function endsWithReadyForQuery(chunk: unknown): boolean {
  if (!Buffer.isBuffer(chunk) || chunk.length < 6) return false;
  const at = chunk.length - 6;
  return chunk[at] === 0x5a && chunk.readInt32BE(at + 1) === 5 && [0x49, 0x54, 0x45].includes(chunk[at + 5]!);
}

/**
 * Settles when `socket` has received the answer to what was just written (PostgreSQL: up to its ReadyForQuery, which
 * may come chunks after the first; otherwise the next chunk) or closes; at once when it is closed already or nothing
 * reads it (a listener of ours would switch it to flowing and lose its data).
 */
function answered(socket: net.Socket, protocol: DecodedRequest['protocol']): Promise<void> {
  if (socket.destroyed || socket.listenerCount('data') === 0) return Promise.resolve();
  let waiting = awaited.get(socket);
  if (!waiting) {
    waiting = new Promise<void>((resolve) => {
      const finish = () => {
        socket.off('data', onData);
        socket.off('close', finish);
        awaited.delete(socket);
        resolve();
      };
      const onData = (chunk: unknown) => {
        if (protocol !== 'PostgreSQL' || endsWithReadyForQuery(chunk)) finish();
      };
      socket.on('data', onData);
      socket.on('close', finish);
    });
    awaited.set(socket, waiting);
  }
  return waiting;
}

/**
 * Starts guarding socket writes (counted: each race session or race() installs it once and uninstalls it when it
 * ends). Returns the function that uninstalls it.
 */
export function installWireGuard(): () => void {
  if (installs++ === 0) {
    const proto = net.Socket.prototype as unknown as { write: Write; end: End };
    originalWrite = proto.write;
    originalEnd = proto.end;
    const write = originalWrite;
    const end = originalEnd;
    patchedWrite = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
      check(this, chunk);
      return write.call(this, chunk, ...rest);
    };
    patchedEnd = function (this: net.Socket, ...args: unknown[]): net.Socket {
      if (args.length > 0 && args[0] !== undefined && args[0] !== null && typeof args[0] !== 'function') check(this, args[0]);
      return end.apply(this, args);
    };
    proto.write = patchedWrite;
    proto.end = patchedEnd;
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--installs === 0) {
      const proto = net.Socket.prototype as unknown as { write: Write; end: End };
      // Only where ours is still the one installed; where something patched over it meanwhile, ours stays in
      // its chain (it passes everything through when no actor runs).
      if (proto.write === patchedWrite) proto.write = originalWrite!;
      if (proto.end === patchedEnd) proto.end = originalEnd!;
      originalWrite = undefined;
      originalEnd = undefined;
      patchedWrite = undefined;
      patchedEnd = undefined;
    }
  };
}

/** The error for `link` writing `chunk` on `socket`, or undefined when the write is not the race's business. */
export function uninstrumentedWrite(link: ActorLink, socket: net.Socket, chunk: unknown): { error: RaceUninstrumentedIoError; protocol: DecodedRequest['protocol'] } | undefined {
  if ((socket as { _isStdio?: boolean })._isStdio) return undefined;
  const bytes = toBytes(chunk);
  const decoded = bytes ? decodeRequest(bytes, prepared.get(socket)) : undefined;
  // Only the stores' protocols: a log shipper's, a tracer's or an HTTP client's socket is not the race's business
  // (a connection an actor opens is, whatever it carries: resourceTracker.ts).
  // Closing a connection (a pool's reaper ending an idle one) changes no data.
  if (decoded === undefined || decoded.closes) return undefined;
  const remote = socket.remoteAddress;
  const where = remote !== undefined ? `${remote.includes(':') ? `[${remote}]` : remote}:${socket.remotePort}` : 'a Unix socket';
  const error = new RaceUninstrumentedIoError(
    link.name,
    `sent ${decoded.what} to the ${decoded.protocol} server at ${where} over a connection the race does not control (a client, pool or library that is neither the actor's own nor bound with bindToActors)`,
  );
  return { error, protocol: decoded.protocol };
}

/* ------------------------------------------------------------------------------------------------ pg-mem */

interface MemDb {
  on(event: 'query', handler: (query: unknown) => void): { unsubscribe(): void };
}

/**
 * Guards an embedded pg-mem database: a statement it executes inside an actor's context was not granted by the
 * scheduler (an adapter built on the database, a pool that is not bound). Returns the function that stops.
 */
export function guardEmbeddedDb(mem: unknown): () => void {
  const db = mem as Partial<MemDb> | undefined;
  if (!db || typeof db.on !== 'function') return () => {};
  // Marked: the embedded pool keeps running parsed statements (no SQL text) while only this handler listens; the
  // text is asked for when a message needs it.
  const handler = Object.assign(
    (query: unknown) => {
      const link = controlledActor();
      if (link === undefined) return;
      const sql = typeof query === 'string' ? query : (statementText(query) ?? '<a prepared statement>');
      link.controller!.fail?.(
        new RaceUninstrumentedIoError(link.name, `ran \`${oneLine(sql)}\` on the embedded pg-mem database through a handle the race does not control (a pool, client or adapter that is neither the actor's own nor bound with bindToActors)`),
      );
    },
    { [TAKES_STATEMENTS]: true },
  );
  const subscription = db.on('query', handler);
  return () => subscription.unsubscribe();
}

/* ------------------------------------------------------------------------------------------------ decoding */

function toBytes(chunk: unknown): Buffer | undefined {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

const MAX_TEXT = 120;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}

export interface DecodedRequest {
  readonly protocol: 'Redis' | 'PostgreSQL' | 'MySQL';
  /** `\`DEL user:1\``, `the query \`UPDATE ...\``. */
  readonly what: string;
  /** The message only ends the session (PostgreSQL Terminate, MySQL COM_QUIT, Redis QUIT). */
  readonly closes?: boolean;
}

/**
 * What a client sends, as far as the first bytes of one write tell it; undefined when no protocol fits.
 * `statements`: the SQL of the statements prepared on this connection, by name.
 */
export function decodeRequest(bytes: Buffer, statements?: ReadonlyMap<string, string>): DecodedRequest | undefined {
  return decodeResp(bytes) ?? decodePostgres(bytes, statements) ?? decodeMysql(bytes);
}

function isPgParse(chunk: unknown): chunk is Buffer {
  return Buffer.isBuffer(chunk) && chunk.length > 6 && chunk[0] === 0x50 /* P */ && chunk[5] !== 0 /* a named statement */;
}

/** Remembers the named statements a Parse message (or several in one write) prepares on `socket`. */
function notePrepared(socket: net.Socket, bytes: Buffer): void {
  for (let pos = 0; pos + 5 <= bytes.length && bytes[pos] === 0x50; ) {
    const length = bytes.readInt32BE(pos + 1);
    const nameEnd = bytes.indexOf(0, pos + 5);
    if (length < 4 || nameEnd < 0) return;
    const name = bytes.toString('utf8', pos + 5, nameEnd);
    if (name !== '') {
      let map = prepared.get(socket);
      if (!map) prepared.set(socket, (map = new Map()));
      map.set(name, cString(bytes, nameEnd + 1));
    }
    pos += 1 + length;
  }
}

/** A RESP array of bulk strings: `*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`. */
function decodeResp(bytes: Buffer): DecodedRequest | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x2a /* * */) return undefined;
  let pos = 1;
  const line = (): string | undefined => {
    const end = bytes.indexOf('\r\n', pos, 'latin1');
    if (end < 0) return undefined;
    const text = bytes.toString('latin1', pos, end);
    pos = end + 2;
    return text;
  };
  const count = Number(line());
  if (!Number.isInteger(count) || count < 1) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < Math.min(count, 4); i++) {
    if (bytes[pos] !== 0x24 /* $ */) break;
    pos++;
    const len = Number(line());
    if (!Number.isInteger(len) || len < 0) return undefined;
    parts.push(bytes.toString('utf8', pos, Math.min(pos + len, pos + 60, bytes.length)));
    pos += len + 2;
  }
  if (parts.length === 0) return undefined;
  parts[0] = parts[0]!.toUpperCase();
  if (count > parts.length) parts.push('…');
  return { protocol: 'Redis', what: `\`${oneLine(parts.join(' '))}\``, ...(count === 1 && parts[0] === 'QUIT' ? { closes: true } : {}) };
}

/** A PostgreSQL frontend message: Query ('Q'), Parse ('P'), or any other typed message with a sane length. */
function decodePostgres(bytes: Buffer, statements?: ReadonlyMap<string, string>): DecodedRequest | undefined {
  if (bytes.length < 5) return undefined;
  const type = String.fromCharCode(bytes[0]!);
  const length = bytes.readInt32BE(1);
  // A client writes whole messages: the first one lies within the write.
  if (!'QPBEDSHCXFfdc'.includes(type) || length < 4 || length + 1 > bytes.length) return undefined;
  if (type === 'X' && length === 4) return { protocol: 'PostgreSQL', what: 'a Terminate message', closes: true };
  if (type === 'Q') {
    // Query: the text, NUL-terminated, ends the message.
    if (bytes[length] !== 0) return undefined;
    return { protocol: 'PostgreSQL', what: `the query \`${oneLine(bytes.toString('utf8', 5, length))}\`` };
  }
  if (type === 'P') {
    const nameEnd = bytes.indexOf(0, 5);
    if (nameEnd < 0 || nameEnd > length) return undefined;
    return { protocol: 'PostgreSQL', what: `the statement \`${oneLine(cString(bytes, nameEnd + 1))}\`` };
  }
  if (type === 'B') {
    // Bind: portal name, then the statement's name; its SQL when the Parse that prepared it was seen.
    const portalEnd = bytes.indexOf(0, 5);
    const nameEnd = portalEnd < 0 ? -1 : bytes.indexOf(0, portalEnd + 1);
    const sql = nameEnd < 0 ? undefined : statements?.get(bytes.toString('utf8', portalEnd + 1, nameEnd));
    if (sql !== undefined) return { protocol: 'PostgreSQL', what: `the statement \`${oneLine(sql)}\` (prepared earlier)` };
  }
  // A message without text (Bind, Execute, Sync of a statement prepared earlier): the type is what is known.
  const names: Record<string, string> = { B: 'Bind', E: 'Execute', D: 'Describe', S: 'Sync', H: 'Flush', C: 'Close', X: 'Terminate', F: 'FunctionCall', f: 'CopyFail', d: 'CopyData', c: 'CopyDone' };
  return { protocol: 'PostgreSQL', what: `a ${names[type]} message (a statement prepared earlier)` };
}

function cString(bytes: Buffer, from: number): string {
  const end = bytes.indexOf(0, from);
  return bytes.toString('utf8', from, end < 0 ? bytes.length : end);
}

/** A MySQL command packet: 3-byte length, sequence 0, then the command byte. */
function decodeMysql(bytes: Buffer): DecodedRequest | undefined {
  if (bytes.length < 5 || bytes[3] !== 0) return undefined;
  const length = bytes.readUIntLE(0, 3);
  // A client writes a command as one whole packet.
  if (length < 1 || length + 4 !== bytes.length) return undefined;
  const command = bytes[4]!;
  const text = () => oneLine(bytes.toString('utf8', 5, Math.min(bytes.length, 4 + length)));
  switch (command) {
    case 0x03:
      return { protocol: 'MySQL', what: `the query \`${text()}\`` };
    case 0x16:
      return { protocol: 'MySQL', what: `the statement \`${text()}\`` };
    case 0x17:
      return { protocol: 'MySQL', what: 'a COM_STMT_EXECUTE (a statement prepared earlier)' };
    case 0x0e:
      return { protocol: 'MySQL', what: 'a COM_PING' };
    case 0x01:
      return { protocol: 'MySQL', what: 'a COM_QUIT', closes: true };
    default:
      return undefined;
  }
}
