import { newError } from '../errors/index.js';

// Decoding of one 512-byte tar header block and of PAX records, strictly. Layer tars come from the internet
// and are unpacked as root, so every field that decides how many bytes follow (size, PAX size) or what is
// created is checked, not guessed: tar-stream 3.2.2 (measured) accepts an all-0xff base-256 size as 0, a size
// of "0000000012x9" as 10 and "00000000009" as 0, and keeps reading entries after the end-of-archive marker.

/** Size of a tar block; headers and data padding are multiples of it. */
export const BLOCK = 512;

/** The entry kinds a layer may carry (ustar typeflags 0-6, plus `7` contiguous files read as files). */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** What one header block says, before PAX and GNU long-name records are applied. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  /** The typeflag byte as a one-character string (`'\0'` for old files). */
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** The meta-entry typeflags: PAX extended (`x`), PAX global (`g`), GNU long name (`L`) and long link (`K`). */
export const META_TYPEFLAGS: ReadonlySet<string> = new Set(['x', 'g', 'L', 'K']);

const ENTRY_TYPES: Readonly<Record<string, TarEntryType>> = {
  '0': 'file',
  '\0': 'file',
  // Contiguous files are plain files on every system that matters (GNU tar extracts them so).
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/** The entry kind of a typeflag, or undefined for a type a layer may not carry (sparse `S`, volume `V`…). */
export function entryType(typeflag: string): TarEntryType | undefined {
  return Object.hasOwn(ENTRY_TYPES, typeflag) ? ENTRY_TYPES[typeflag] : undefined;
}

/**
 * Whether an entry of this kind carries data blocks. Like Go's archive/tar (which containerd, docker and umoci
 * use), links, directories, devices and fifos carry none whatever their size field says: reading the size
 * differently from those consumers would let one archive mean two different trees.
 */
export function hasData(type: TarEntryType): boolean {
  return type === 'file';
}

function invalid(message: string, offset: number, field?: string): Error {
  return newError('ERR_INVALID_TAR', `invalid tar header at byte ${offset}: ${message}`, { details: { offset, ...(field ? { field } : {}) } });
}

/** Whether all 512 bytes of `block` are zero (an end-of-archive block). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 8) {
    if (block.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

/**
 * A numeric header field: octal digits, optionally surrounded by spaces and NULs (as Go and GNU tar accept), or
 * base-256 (first byte 0x80 for positive, 0xff for negative, as GNU tar writes large values). Anything else is
 * refused; a negative value only where `allowNegative` (mtime before 1970).
 */
export function parseNumeric(block: Buffer, start: number, length: number, field: string, offset: number, allowNegative = false): number {
  const end = start + length;
  const first = block[start]!;
  if (first & 0x80) {
    if (first !== 0x80 && first !== 0xff) throw invalid(`${field} has a malformed base-256 value`, offset, field);
    const negative = first === 0xff;
    if (negative && !allowNegative) throw invalid(`${field} is negative`, offset, field);
    let value = 0;
    for (let i = start + 1; i < end; i++) {
      value = value * 256 + (negative ? 0xff - block[i]! : block[i]!);
      if (value > Number.MAX_SAFE_INTEGER) throw invalid(`${field} is too large`, offset, field);
    }
    return negative ? -(value + 1) : value;
  }
  let i = start;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let value = 0;
  while (i < end && block[i]! >= 0x30 && block[i]! <= 0x37) {
    value = value * 8 + (block[i]! - 0x30);
    i++;
  }
  for (; i < end; i++) {
    if (block[i] !== 0x20 && block[i] !== 0) throw invalid(`${field} is not an octal number`, offset, field);
  }
  return value;
}

function cString(block: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  return block.toString('utf8', start, end);
}

function magicIs(block: Buffer, magic: string, version: string): boolean {
  return block.toString('latin1', 257, 263) === magic && block.toString('latin1', 263, 265) === version;
}

/**
 * Decodes a header block that is not all zeros. Checks the checksum (unsigned, or the signed sum some old tars
 * wrote), the magic (POSIX ustar, GNU, or none for v7) and every numeric field.
 *
 * @throws ERR_INVALID_TAR for a bad checksum, an unknown magic or a malformed number.
 */
export function decodeHeader(block: Buffer, offset: number): RawHeader {
  const stored = parseNumeric(block, 148, 8, 'checksum', offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) throw invalid('bad checksum', offset, 'checksum');

  const ustar = magicIs(block, 'ustar\0', '00');
  const gnu = !ustar && magicIs(block, 'ustar ', ' \0');
  const v7 = !ustar && !gnu && block.subarray(257, 265).every((b) => b === 0);
  if (!ustar && !gnu && !v7) throw invalid('unknown format (no ustar or GNU magic)', offset, 'magic');

  let name = cString(block, 0, 100);
  // Only POSIX ustar has a prefix field; GNU keeps atime/ctime there.
  if (ustar && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
  return {
    name,
    mode: parseNumeric(block, 100, 8, 'mode', offset) & 0o7777,
    uid: parseNumeric(block, 108, 8, 'uid', offset),
    gid: parseNumeric(block, 116, 8, 'gid', offset),
    size: parseNumeric(block, 124, 12, 'size', offset),
    mtime: parseNumeric(block, 136, 12, 'mtime', offset, true),
    typeflag: String.fromCharCode(block[156]!),
    linkname: cString(block, 157, 100),
    devmajor: v7 ? 0 : parseNumeric(block, 329, 8, 'devmajor', offset),
    devminor: v7 ? 0 : parseNumeric(block, 337, 8, 'devminor', offset),
  };
}

/** The PAX records of one extended header, values kept as raw bytes (xattr values are binary). */
export type PaxRecords = Map<string, Buffer>;

/**
 * Parses PAX extended-header records (`<len> <key>=<value>\n`), strictly: the length must be decimal and
 * consistent, the record must end in a newline and hold a `=`. Trailing NUL bytes are tolerated.
 *
 * @throws ERR_INVALID_TAR on a malformed record.
 */
export function parsePax(data: Buffer, offset: number): PaxRecords {
  const records: PaxRecords = new Map();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) {
      if (data.subarray(pos).every((b) => b === 0)) break;
      throw invalid('malformed PAX record', offset, 'pax');
    }
    const space = data.indexOf(0x20, pos);
    const lengthText = space === -1 ? '' : data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) throw invalid('malformed PAX record length', offset, 'pax');
    const length = Number(lengthText);
    const end = pos + length;
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) throw invalid('malformed PAX record', offset, 'pax');
    const eq = data.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1 || eq === space + 1) throw invalid('PAX record without key=value', offset, 'pax');
    records.set(data.toString('utf8', space + 1, eq), data.subarray(eq + 1, end - 1));
    pos = end;
  }
  return records;
}

/** A PAX decimal integer field (`size`, `uid`, `gid`): digits only. */
export function paxInteger(value: Buffer, key: string, offset: number): number {
  const text = value.toString('latin1');
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw invalid(`PAX ${key} is not a non-negative integer`, offset, key);
  return Number(text);
}

/** A PAX time (`mtime`, `atime`): decimal seconds, optionally negative and fractional. */
export function paxTime(value: Buffer, key: string, offset: number): number {
  const text = value.toString('latin1');
  if (!/^-?[0-9]{1,16}(\.[0-9]{1,9})?$/.test(text)) throw invalid(`PAX ${key} is not a time`, offset, key);
  return Number(text);
}
