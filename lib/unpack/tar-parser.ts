import { newError } from '../errors/index.js';
import {
  BLOCK,
  decodeHeader,
  entryType,
  hasData,
  isZeroBlock,
  META_TYPEFLAGS,
  type PaxRecords,
  parsePax,
  paxInteger,
  paxTime,
  type TarEntryType,
} from './tar-header.js';

// Why containerkit parses tar itself instead of feeding tar-stream: the block structure (where a header starts)
// is decided by the size field and PAX `size` records, and a validator placed in front of tar-stream would have
// to decode both anyway, i.e. be a second parser whose idea of the structure could drift from tar-stream's (a
// directory with a non-zero size is one such drift, measured: tar-stream reads its data as headers). One parser
// means one answer. It also keeps PAX values as bytes (tar-stream decodes them as UTF-8, which corrupts binary
// xattrs such as security.capability) and hands file data on as slices of the input chunks, with no per-entry
// stream object.

/** Meta records larger than this (a PAX header, a GNU long name) are refused: no real layer needs them. */
const MAX_META_SIZE = 1024 * 1024;

/** One entry of a layer tar, with PAX and GNU long-name records applied. */
export interface TarEntry {
  /** The name as the archive gives it (not yet cleaned or resolved). */
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow (0 for every type but `file`). */
  size: number;
  /** Seconds since the epoch, possibly fractional (PAX). */
  mtime: number;
  /** Seconds since the epoch, from PAX `atime` when present. */
  atime: number | undefined;
  /** Hardlink or symlink target, as the archive gives it. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.<name>` records, values as raw bytes. */
  xattrs: Map<string, Buffer>;
  /** Byte offset of the entry's header in the uncompressed tar (for error messages). */
  offset: number;
}

/** What the parser reports: an entry's header, a piece of its data, and the end of its data. */
export type TarEvent = { kind: 'entry'; entry: TarEntry } | { kind: 'data'; data: Buffer } | { kind: 'end' };

type State = 'header' | 'data' | 'meta' | 'padding' | 'eof';

/**
 * A push parser for layer tars: {@link push} takes the next chunk of the uncompressed stream and yields the
 * events it completes; {@link finish} is called at the end of the stream. Data events are slices of the pushed
 * chunks (copy them to keep them). The first all-zero header block ends the archive (as GNU tar reads it), and
 * any non-zero byte after it is refused.
 *
 * Errors: ERR_INVALID_TAR (malformed header, PAX record, data after the end marker), ERR_UNSUPPORTED_TAR_ENTRY
 * (a type other than file, directory, symlink, hardlink, device or fifo; GNU/PAX sparse files), and from
 * {@link finish} ERR_LAYER_TRUNCATED (the stream ended before the end-of-archive marker).
 */
export class TarParser {
  #state: State = 'header';
  #position = 0;
  readonly #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  #remaining = 0;
  #padding = 0;
  #metaType = '';
  #metaChunks: Buffer[] = [];
  #metaOffset = 0;
  #pax: PaxRecords | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  /** Whether the end-of-archive marker has been read. */
  get ended(): boolean {
    return this.#state === 'eof';
  }

  /** Feeds the next chunk; yields the events it completes, in order. */
  *push(chunk: Buffer): Generator<TarEvent> {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.#state) {
        case 'header': {
          const take = Math.min(BLOCK - this.#headerFill, chunk.length - pos);
          let block: Buffer;
          if (this.#headerFill === 0 && take === BLOCK) {
            block = chunk.subarray(pos, pos + BLOCK);
          } else {
            chunk.copy(this.#header, this.#headerFill, pos, pos + take);
            this.#headerFill += take;
            if (this.#headerFill < BLOCK) {
              pos += take;
              this.#position += take;
              continue;
            }
            block = this.#header;
          }
          pos += take;
          this.#headerFill = 0;
          const offset = this.#position - (BLOCK - take);
          this.#position += take;
          const event = this.#onHeader(block, offset);
          if (event) {
            yield event;
            if (this.#state === 'header' || this.#state === 'padding') yield { kind: 'end' };
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.#remaining, chunk.length - pos);
          const data = chunk.subarray(pos, pos + take);
          pos += take;
          this.#position += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#padding > 0 ? 'padding' : 'header';
          yield { kind: 'data', data };
          if (this.#remaining === 0) yield { kind: 'end' };
          break;
        }
        case 'meta': {
          const take = Math.min(this.#remaining, chunk.length - pos);
          this.#metaChunks.push(Buffer.from(chunk.subarray(pos, pos + take)));
          pos += take;
          this.#position += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#onMeta(Buffer.concat(this.#metaChunks));
            this.#metaChunks = [];
            this.#state = this.#padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'padding': {
          const take = Math.min(this.#padding, chunk.length - pos);
          pos += take;
          this.#position += take;
          this.#padding -= take;
          if (this.#padding === 0) this.#state = 'header';
          break;
        }
        case 'eof': {
          // Only zeros may follow the end-of-archive marker (the rest of the record); anything else would be
          // entries that GNU tar and Go ignore and a lax reader applies.
          const nonZero = firstNonZero(chunk, pos);
          if (nonZero !== -1) {
            const at = this.#position + (nonZero - pos);
            throw newError('ERR_INVALID_TAR', `data after the end-of-archive marker at byte ${at}`, { details: { offset: at } });
          }
          this.#position += chunk.length - pos;
          pos = chunk.length;
          break;
        }
      }
    }
  }

  /**
   * Checks that the stream ended where an archive may end.
   * @throws ERR_LAYER_TRUNCATED when it stopped before the end-of-archive marker.
   */
  finish(): void {
    if (this.#state !== 'eof') {
      const where = this.#state === 'header' && this.#headerFill === 0 ? 'without an end-of-archive marker' : 'in the middle of an entry';
      throw newError('ERR_LAYER_TRUNCATED', `the layer tar ends ${where} (after ${this.#position} bytes)`, {
        details: { offset: this.#position },
      });
    }
  }

  #onHeader(block: Buffer, offset: number): TarEvent | undefined {
    if (isZeroBlock(block)) {
      if (this.#pax || this.#longName !== undefined || this.#longLink !== undefined) {
        throw newError('ERR_INVALID_TAR', `extended header at byte ${offset} is not followed by an entry`, { details: { offset } });
      }
      this.#state = 'eof';
      return undefined;
    }
    const raw = decodeHeader(block, offset);
    if (META_TYPEFLAGS.has(raw.typeflag)) {
      if (raw.size > MAX_META_SIZE) {
        throw newError('ERR_INVALID_TAR', `extended header at byte ${offset} is too large (${raw.size} bytes)`, { details: { offset } });
      }
      this.#metaType = raw.typeflag;
      this.#metaOffset = offset;
      this.#setData(raw.size, 'meta');
      if (raw.size === 0) this.#onMeta(Buffer.alloc(0));
      return undefined;
    }
    let type = entryType(raw.typeflag);
    if (type === undefined) {
      throw newError(
        'ERR_UNSUPPORTED_TAR_ENTRY',
        `unsupported tar entry type ${JSON.stringify(raw.typeflag)} for ${JSON.stringify(raw.name)} at byte ${offset}`,
        {
          details: { offset, typeflag: raw.typeflag, path: raw.name },
        },
      );
    }
    const pax = this.#pax;
    let path = this.#longName ?? raw.name;
    let linkname = this.#longLink ?? raw.linkname;
    let { size, uid, gid, mtime } = raw;
    let atime: number | undefined;
    const xattrs = new Map<string, Buffer>();
    if (pax) {
      for (const [key, value] of pax) {
        // An empty value deletes the keyword's effect (POSIX pax), i.e. the header field stands.
        if (value.length === 0) continue;
        if (key === 'path') path = value.toString('utf8');
        else if (key === 'linkpath') linkname = value.toString('utf8');
        else if (key === 'size') size = paxInteger(value, key, offset);
        else if (key === 'uid') uid = paxInteger(value, key, offset);
        else if (key === 'gid') gid = paxInteger(value, key, offset);
        else if (key === 'mtime') mtime = paxTime(value, key, offset);
        else if (key === 'atime') atime = paxTime(value, key, offset);
        else if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
        else if (key.startsWith('GNU.sparse.')) {
          throw newError('ERR_UNSUPPORTED_TAR_ENTRY', `sparse file ${JSON.stringify(path)} at byte ${offset} is not supported in a layer`, {
            details: { offset, path },
          });
        }
      }
    }
    this.#pax = undefined;
    this.#longName = undefined;
    this.#longLink = undefined;
    // Old tars mark directories with a trailing slash on a plain-file typeflag (Go reads them so).
    if (raw.typeflag === '\0' && path.endsWith('/')) type = 'directory';
    if (path.includes('\0') || linkname.includes('\0')) {
      throw newError('ERR_INVALID_TAR', `entry name at byte ${offset} contains a NUL byte`, { details: { offset } });
    }
    if (!hasData(type)) size = 0;
    this.#setData(size, 'data');
    return {
      kind: 'entry',
      entry: { path, type, mode: raw.mode, uid, gid, size, mtime, atime, linkname, devmajor: raw.devmajor, devminor: raw.devminor, xattrs, offset },
    };
  }

  #setData(size: number, state: 'data' | 'meta'): void {
    this.#remaining = size;
    this.#padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#state = size > 0 ? state : 'header';
  }

  #onMeta(data: Buffer): void {
    const offset = this.#metaOffset;
    switch (this.#metaType) {
      case 'x':
        this.#pax = parsePax(data, offset);
        break;
      case 'g':
        // Global PAX headers are validated and ignored, as Go's reader (containerd, umoci) does.
        parsePax(data, offset);
        break;
      case 'L':
        this.#longName = cString(data);
        break;
      case 'K':
        this.#longLink = cString(data);
        break;
    }
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Index of the first non-zero byte of `chunk` from `start`, or -1; compares 64 KiB at a time (memcmp). */
function firstNonZero(chunk: Buffer, start: number): number {
  for (let pos = start; pos < chunk.length; pos += ZEROS.length) {
    const end = Math.min(pos + ZEROS.length, chunk.length);
    if (chunk.compare(ZEROS, 0, end - pos, pos, end) !== 0) {
      for (let i = pos; i < end; i++) if (chunk[i] !== 0) return i;
    }
  }
  return -1;
}

function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul === -1 ? data.length : nul);
}
