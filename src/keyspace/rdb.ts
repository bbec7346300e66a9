/**
 * A reader for the RDB files redis-server writes on `SAVE` (RDB versions 1 to 12: Redis 2.x to 7.4), for the
 * keyspace capture of servers the library started itself (see capture.ts, `captureFromRdb`). It reads the
 * keys of one database: strings, and hashes, lists, sets and sorted sets in the encodings Redis 7.0 writes, whole;
 * for every other type or encoding (streams, module types, the ziplists of Redis before 7, the set listpacks of
 * 7.2) only the key, its type and its expiry (the capture reads those values live). Anything it does not know for
 * certain (a newer RDB version, a value type or opcode it cannot skip exactly, a corrupt listpack) is an
 * `RdbUnsupportedError`: the capture then reads the whole keyspace the usual way. It never guesses.
 *
 * Format: "REDIS" + 4 version digits, then opcodes and keys; see redis/src/rdb.h and rdb.c.
 */

/** The file holds something this reader does not handle: read the keyspace without it. */
export class RdbUnsupportedError extends Error {}

const OPCODE_SLOT_INFO = 0xf4; // Valkey/Redis 8 cluster only: not handled
const OPCODE_FUNCTION2 = 0xf5;
const OPCODE_FUNCTION_PRE_GA = 0xf6;
const OPCODE_MODULE_AUX = 0xf7;
const OPCODE_IDLE = 0xf8;
const OPCODE_FREQ = 0xf9;
const OPCODE_AUX = 0xfa;
const OPCODE_RESIZEDB = 0xfb;
const OPCODE_EXPIRETIME_MS = 0xfc;
const OPCODE_EXPIRETIME = 0xfd;
const OPCODE_SELECTDB = 0xfe;
const OPCODE_EOF = 0xff;

/** Value types (rdb.h). */
const TYPE_STRING = 0;
const TYPE_NAMES: Record<number, string> = {
  1: 'list', 2: 'set', 3: 'zset', 4: 'hash', 5: 'zset', 7: 'module', 9: 'hash', 10: 'list', 11: 'set', 12: 'zset',
  13: 'hash', 14: 'list', 15: 'stream', 16: 'hash', 17: 'zset', 18: 'list', 19: 'stream', 20: 'set', 21: 'stream',
};

const MAX_VERSION = 12;

/**
 * The keys of the selected database. Every string arrives as bytes [start, end) of a buffer: of the file itself
 * when stored raw (no copy: copy what you keep), else of a buffer holding it decoded (LZF, integer encodings).
 * `expireAtMs` is the key's absolute expiry in Unix milliseconds, -1 without one.
 */
export interface RdbKeyVisitor {
  string(kb: Buffer, ks: number, ke: number, vb: Buffer, vs: number, ve: number, expireAtMs: number): void;
  /**
   * A hash, list, set or sorted set in an encoding this reader decodes, as the flat reply its full read gives
   * (HGETALL: field, value, ...; LRANGE; SMEMBERS; ZRANGE WITHSCORES: member, score as text, ...): every element
   * a Buffer of its own (never a view of the file), in the file's order.
   */
  collection(kb: Buffer, ks: number, ke: number, type: 'hash' | 'list' | 'set' | 'zset', flat: Buffer[], expireAtMs: number): void;
  /** A key of any other type or encoding (its value skipped), with the type's name (`module` for any module type). */
  other(kb: Buffer, ks: number, ke: number, type: string, expireAtMs: number): void;
}

export interface RdbReadResult {
  /** Keys the file holds for the selected database. */
  keys: number;
  /** The database's size as RESIZEDB announced it (undefined when the file has no RESIZEDB for it). */
  announced: number | undefined;
}

/**
 * Reads the keys of database `db` from a whole RDB file. Keys of other databases are skipped.
 * Throws RdbUnsupportedError for anything it cannot read exactly, and for a truncated or malformed file.
 */
export function readRdb(buf: Buffer, db: number, visit: RdbKeyVisitor): RdbReadResult {
  const r = new Reader(buf);
  if (buf.length < 9 || buf.toString('latin1', 0, 5) !== 'REDIS') throw new RdbUnsupportedError('not an RDB file');
  const version = Number(buf.toString('latin1', 5, 9));
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) throw new RdbUnsupportedError(`RDB version ${buf.toString('latin1', 5, 9)}`);
  r.pos = 9;
  let current = 0;
  let expireAt = -1;
  let keys = 0;
  let announced: number | undefined;
  for (;;) {
    const type = r.byte();
    switch (type) {
      case OPCODE_EOF:
        return { keys, announced };
      case OPCODE_SELECTDB:
        current = r.length();
        continue;
      case OPCODE_RESIZEDB: {
        const size = r.length();
        r.length(); // keys with an expiry
        if (current === db) announced = size;
        continue;
      }
      case OPCODE_EXPIRETIME_MS:
        expireAt = r.int64le();
        continue;
      case OPCODE_EXPIRETIME:
        expireAt = r.uint32le() * 1000;
        continue;
      case OPCODE_AUX:
        r.skipString();
        r.skipString();
        continue;
      case OPCODE_IDLE:
        r.length();
        continue;
      case OPCODE_FREQ:
        r.pos += 1;
        continue;
      case OPCODE_FUNCTION2:
        r.skipString();
        continue;
      case OPCODE_MODULE_AUX: {
        r.length(); // module id
        const whenOpcode = r.length();
        if (whenOpcode !== 2) throw new RdbUnsupportedError('module aux data of an unknown layout');
        r.length(); // when
        r.skipModuleValue();
        continue;
      }
      case OPCODE_SLOT_INFO:
      case OPCODE_FUNCTION_PRE_GA:
        throw new RdbUnsupportedError(`opcode 0x${type.toString(16)}`);
      default:
        break;
    }
    // A key and its value.
    const mine = current === db;
    if (!mine) {
      r.skipString();
      if (type === TYPE_STRING) r.skipString();
      else if (TYPE_NAMES[type] === undefined) throw new RdbUnsupportedError(`value type ${type}`);
      else r.skipValue(type);
      expireAt = -1;
      continue;
    }
    r.string();
    const kb = r.sBuf;
    const ks = r.sStart;
    const ke = r.sEnd;
    if (type === TYPE_STRING) {
      r.string();
      visit.string(kb, ks, ke, r.sBuf, r.sStart, r.sEnd, expireAt);
    } else {
      const name = TYPE_NAMES[type];
      if (name === undefined) throw new RdbUnsupportedError(`value type ${type}`);
      const flat = r.collection(type);
      if (flat) {
        visit.collection(kb, ks, ke, name as 'hash' | 'list' | 'set' | 'zset', flat, expireAt);
      } else {
        r.skipValue(type);
        visit.other(kb, ks, ke, name, expireAt);
      }
    }
    keys++;
    expireAt = -1;
  }
}

class Reader {
  pos = 0;
  /** The last string string() read: bytes [sStart, sEnd) of sBuf (the file, or a decoded copy). */
  sBuf: Buffer;
  sStart = 0;
  sEnd = 0;
  /** Set by length(): the length byte announced a special encoding (its number is the returned value). */
  private encoded = false;

  constructor(private readonly buf: Buffer) {
    this.sBuf = buf;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RdbUnsupportedError('truncated RDB file');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  uint32le(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  int64le(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** rdbLoadLen: a length, or (this.encoded set) a special string encoding's number. */
  length(): number {
    const first = this.byte();
    const kind = first >> 6;
    this.encoded = false;
    if (kind === 0) return first & 0x3f;
    if (kind === 1) return ((first & 0x3f) << 8) | this.byte();
    if (kind === 3) {
      this.encoded = true;
      return first & 0x3f;
    }
    if (first === 0x80) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (first === 0x81) {
      this.need(8);
      const hi = this.buf.readUInt32BE(this.pos);
      const lo = this.buf.readUInt32BE(this.pos + 4);
      this.pos += 8;
      if (hi >= 0x20_0000) throw new RdbUnsupportedError('a length beyond 2^53');
      return hi * 0x1_0000_0000 + lo;
    }
    throw new RdbUnsupportedError(`length byte 0x${first.toString(16)}`);
  }

  /** A string, into sBuf/sStart/sEnd: a range of the file when stored raw, else its decoded bytes. */
  string(): void {
    const len = this.length();
    if (this.encoded) {
      const decoded = this.finishEncoded(len, true)!;
      this.sBuf = decoded;
      this.sStart = 0;
      this.sEnd = decoded.length;
      return;
    }
    this.need(len);
    this.sBuf = this.buf;
    this.sStart = this.pos;
    this.pos += len;
    this.sEnd = this.pos;
  }

  skipString(): void {
    const len = this.length();
    if (this.encoded) {
      this.finishEncoded(len, false);
      return;
    }
    this.need(len);
    this.pos += len;
  }

  /** After the length byte of an encoded string: reads (or skips) the rest. */
  private finishEncoded(encoding: number, want: boolean): Buffer | undefined {
    switch (encoding) {
      case 0: {
        this.need(1);
        const v = this.buf.readInt8(this.pos);
        this.pos += 1;
        return want ? Buffer.from(String(v), 'latin1') : undefined;
      }
      case 1: {
        this.need(2);
        const v = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return want ? Buffer.from(String(v), 'latin1') : undefined;
      }
      case 2: {
        this.need(4);
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return want ? Buffer.from(String(v), 'latin1') : undefined;
      }
      case 3: {
        const clen = this.length();
        const len = this.length();
        this.need(clen);
        const start = this.pos;
        this.pos += clen;
        return want ? lzfDecompress(this.buf, start, start + clen, len) : undefined;
      }
      default:
        throw new RdbUnsupportedError(`string encoding ${encoding}`);
    }
  }

  /** The last string read, as a Buffer of its own. */
  private ownString(): Buffer {
    this.string();
    return this.sBuf === this.buf ? Buffer.from(this.buf.subarray(this.sStart, this.sEnd)) : this.sBuf;
  }

  /**
   * The value of a hash, list, set or sorted set, flat (see RdbKeyVisitor.collection), for the encodings Redis
   * 7.0 writes: hash (4) and its listpack (16), set (2) and intset (11), sorted set with binary scores (5) and
   * its listpack (17), quicklist of listpacks (18). Undefined, nothing read, for any other type or encoding.
   */
  collection(type: number): Buffer[] | undefined {
    switch (type) {
      case 2: {
        const n = this.length();
        const out: Buffer[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.ownString();
        return out;
      }
      case 4: {
        const n = this.length() * 2;
        const out: Buffer[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.ownString();
        return out;
      }
      case 5: {
        const n = this.length();
        const out: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          out.push(this.ownString());
          this.need(8);
          out.push(Buffer.from(scoreText(this.buf.readDoubleLE(this.pos)), 'latin1'));
          this.pos += 8;
        }
        return out;
      }
      case 11: {
        this.string();
        return intsetItems(this.sBuf, this.sStart, this.sEnd);
      }
      case 16:
      case 17: {
        this.string();
        const out: Buffer[] = [];
        listpackItems(this.sBuf, this.sStart, this.sEnd, out);
        return out;
      }
      case 18: {
        const nodes = this.length();
        const out: Buffer[] = [];
        for (let i = 0; i < nodes; i++) {
          const container = this.length();
          if (container === 1) {
            out.push(this.ownString()); // PLAIN: one large element
          } else if (container === 2) {
            this.string();
            listpackItems(this.sBuf, this.sStart, this.sEnd, out); // PACKED: a listpack
          } else {
            throw new RdbUnsupportedError(`quicklist container ${container}`);
          }
        }
        return out;
      }
      default:
        return undefined;
    }
  }

  /** A double of the old text format (zset type 3): one length byte, 253 nan, 254 +inf, 255 -inf. */
  private skipTextDouble(): void {
    const len = this.byte();
    if (len < 253) {
      this.need(len);
      this.pos += len;
    }
  }

  private skipStrings(n: number): void {
    for (let i = 0; i < n; i++) this.skipString();
  }

  /** Skips the value of a non-string type, exactly as rdbLoadObject reads it. */
  skipValue(type: number): void {
    switch (type) {
      case 1: // list (linked list)
      case 2: // set
        this.skipStrings(this.length());
        return;
      case 3: {
        // zset, doubles as text
        const n = this.length();
        for (let i = 0; i < n; i++) {
          this.skipString();
          this.skipTextDouble();
        }
        return;
      }
      case 4: // hash
        this.skipStrings(this.length() * 2);
        return;
      case 5: {
        // zset, binary doubles
        const n = this.length();
        for (let i = 0; i < n; i++) {
          this.skipString();
          this.need(8);
          this.pos += 8;
        }
        return;
      }
      case 7: // module value (MODULE_2): module id, then opcodes until EOF
        this.length();
        this.skipModuleValue();
        return;
      case 9: // hash zipmap
      case 10: // list ziplist
      case 11: // set intset
      case 12: // zset ziplist
      case 13: // hash ziplist
      case 16: // hash listpack
      case 17: // zset listpack
      case 20: // set listpack
        this.skipString();
        return;
      case 14: // list quicklist: ziplists
        this.skipStrings(this.length());
        return;
      case 18: {
        // list quicklist 2: per node a container kind, then a listpack or a plain item
        const n = this.length();
        for (let i = 0; i < n; i++) {
          this.length();
          this.skipString();
        }
        return;
      }
      case 15:
      case 19:
      case 21:
        this.skipStream(type);
        return;
      default:
        throw new RdbUnsupportedError(`value type ${type}`);
    }
  }

  /** Module data: opcodes (rdb.h RDB_MODULE_OPCODE_*) until EOF. */
  skipModuleValue(): void {
    for (;;) {
      const op = this.length();
      switch (op) {
        case 0:
          return;
        case 1: // signed int
        case 2: // unsigned int
          this.length();
          break;
        case 3: // float
          this.need(4);
          this.pos += 4;
          break;
        case 4: // double
          this.need(8);
          this.pos += 8;
          break;
        case 5: // string
          this.skipString();
          break;
        default:
          throw new RdbUnsupportedError(`module opcode ${op}`);
      }
    }
  }

  /** A stream (RDB_TYPE_STREAM_LISTPACKS, _2 from Redis 7.0, _3 from 7.2), as rdbLoadObject reads it. */
  private skipStream(type: number): void {
    const nodes = this.length();
    for (let i = 0; i < nodes; i++) {
      this.skipString(); // master id
      this.skipString(); // listpack
    }
    this.length(); // length
    this.length(); // last id ms
    this.length(); // last id seq
    if (type >= 19) {
      this.length(); // first id ms
      this.length(); // first id seq
      this.length(); // max deleted id ms
      this.length(); // max deleted id seq
      this.length(); // entries added
    }
    const groups = this.length();
    for (let g = 0; g < groups; g++) {
      this.skipString(); // name
      this.length(); // last id ms
      this.length(); // last id seq
      if (type >= 19) this.length(); // entries read
      const pel = this.length();
      for (let i = 0; i < pel; i++) {
        this.need(16 + 8);
        this.pos += 16 + 8; // id, delivery time
        this.length(); // delivery count
      }
      const consumers = this.length();
      for (let c = 0; c < consumers; c++) {
        this.skipString(); // name
        this.need(8);
        this.pos += 8; // seen time
        if (type >= 21) {
          this.need(8);
          this.pos += 8; // active time
        }
        const owned = this.length();
        this.need(owned * 16);
        this.pos += owned * 16;
      }
    }
  }
}

/** LZF decompression (lzf_d.c), of buf[start, end) into a Buffer of `outLen` bytes. */
export function lzfDecompress(buf: Buffer, start: number, end: number, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  while (ip < end) {
    let ctrl = buf[ip++]!;
    if (ctrl < 32) {
      // a literal run of ctrl + 1 bytes
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > end) throw new RdbUnsupportedError('corrupt LZF data');
      buf.copy(out, op, ip, ip + ctrl);
      op += ctrl;
      ip += ctrl;
    } else {
      // a back reference
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new RdbUnsupportedError('corrupt LZF data');
      if (len === 7) {
        len += buf[ip++]!;
        if (ip >= end) throw new RdbUnsupportedError('corrupt LZF data');
      }
      ref -= buf[ip++]!;
      len += 2;
      if (op + len > outLen || ref < 0) throw new RdbUnsupportedError('corrupt LZF data');
      // Byte by byte: the reference may overlap the bytes being written.
      for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
    }
  }
  if (op !== outLen) throw new RdbUnsupportedError('corrupt LZF data');
  return out;
}

/**
 * A score as ZRANGE WITHSCORES prints it, as far as the capture reads it back (Number of the text): `inf` and
 * `-inf`, `-0` for negative zero, else the shortest text that reads back as the same double.
 */
function scoreText(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) throw new RdbUnsupportedError('a NaN score');
  return Object.is(d, -0) ? '-0' : String(d);
}

/** The members of an intset (encoding 2, 4 or 8 bytes, then the count, then the sorted integers, little-endian). */
function intsetItems(b: Buffer, s: number, e: number): Buffer[] {
  if (e - s < 8) throw new RdbUnsupportedError('corrupt intset');
  const width = b.readUInt32LE(s);
  const n = b.readUInt32LE(s + 4);
  if ((width !== 2 && width !== 4 && width !== 8) || 8 + n * width !== e - s) throw new RdbUnsupportedError('corrupt intset');
  const out: Buffer[] = new Array(n);
  for (let i = 0, p = s + 8; i < n; i++, p += width) {
    const v = width === 2 ? b.readInt16LE(p) : width === 4 ? b.readInt32LE(p) : b.readBigInt64LE(p);
    out[i] = Buffer.from(String(v), 'latin1');
  }
  return out;
}

/**
 * The elements of a listpack (listpack.c: a 6-byte header, entries each followed by its back-length, 0xFF), each
 * as a Buffer of its own: strings as they are, integers as their decimal text (as the server replies them).
 */
function listpackItems(b: Buffer, s: number, e: number, out: Buffer[]): void {
  if (e - s < 7 || b.readUInt32LE(s) !== e - s || b[e - 1] !== 0xff) throw new RdbUnsupportedError('corrupt listpack');
  const count = b.readUInt16LE(s + 4);
  const first = out.length;
  let p = s + 6;
  const end = e - 1;
  while (p < end) {
    const c = b[p]!;
    let len: number; // the entry's length without its back-length
    if (c < 0x80) {
      out.push(Buffer.from(String(c), 'latin1')); // 7-bit unsigned integer
      len = 1;
    } else if (c < 0xc0) {
      const n = c & 0x3f; // string, 6-bit length
      if (p + 1 + n > end) throw new RdbUnsupportedError('corrupt listpack');
      out.push(Buffer.from(b.subarray(p + 1, p + 1 + n)));
      len = 1 + n;
    } else if (c < 0xe0) {
      let v = ((c & 0x1f) << 8) | b[p + 1]!; // 13-bit signed integer
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(Buffer.from(String(v), 'latin1'));
      len = 2;
    } else if (c < 0xf0) {
      const n = ((c & 0x0f) << 8) | b[p + 1]!; // string, 12-bit length
      if (p + 2 + n > end) throw new RdbUnsupportedError('corrupt listpack');
      out.push(Buffer.from(b.subarray(p + 2, p + 2 + n)));
      len = 2 + n;
    } else {
      let v: number | bigint;
      switch (c) {
        case 0xf0: {
          const n = b.readUInt32LE(p + 1); // string, 32-bit length
          if (p + 5 + n > end) throw new RdbUnsupportedError('corrupt listpack');
          out.push(Buffer.from(b.subarray(p + 5, p + 5 + n)));
          len = 5 + n;
          break;
        }
        case 0xf1:
          v = b.readInt16LE(p + 1);
          len = 3;
          break;
        case 0xf2:
          v = b.readIntLE(p + 1, 3);
          len = 4;
          break;
        case 0xf3:
          v = b.readInt32LE(p + 1);
          len = 5;
          break;
        case 0xf4:
          v = b.readBigInt64LE(p + 1);
          len = 9;
          break;
        default:
          throw new RdbUnsupportedError(`listpack entry 0x${c.toString(16)}`);
      }
      if (c !== 0xf0) out.push(Buffer.from(String(v!), 'latin1'));
    }
    // The back-length (lpEncodeBacklen): 7 bits per byte, with these exact bounds.
    p += len + (len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5);
  }
  if (p !== end || (count !== 0xffff && out.length - first !== count)) throw new RdbUnsupportedError('corrupt listpack');
}
