import { newError } from '../errors/index.js';

// A small PAX tar writer for `diff`. Not tar-stream's packer: it writes PAX values as text, and binary xattr
// values (security.capability) must go into `SCHILY.xattr.*` records byte for byte. Output depends only on the
// headers given, so the same changes always give the same tar (and the same diff_id).

const BLOCK = 512;

/** One tar header to write. */
export interface TarWriteHeader {
  /** Path inside the layer, without a leading `/` (directories without a trailing one; it is added). */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  /** Permission and setuid/setgid/sticky bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (whole seconds are written). */
  mtime: number;
  /** Data size of a regular file. Default 0. */
  size?: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX `SCHILY.xattr.<name>` records (sorted by name). */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<TarWriteHeader['type'], string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(buf: Buffer, offset: number, length: number, value: number): boolean {
  const text = Math.trunc(value).toString(8);
  if (value < 0 || text.length > length - 1) return false;
  buf.write(text.padStart(length - 1, '0'), offset, 'ascii');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = 1 + Buffer.byteLength(key) + 1 + value.length + 1; // " key=value\n"
  let length = body + String(body).length;
  if (String(length).length !== String(length - body).length) length = body + String(length).length;
  return Buffer.concat([Buffer.from(`${length} ${key}=`), value, Buffer.from('\n')]);
}

function rawHeader(
  name: string,
  typeflag: string,
  fields: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; devmajor: number; devminor: number },
): {
  block: Buffer;
  overflow: boolean;
} {
  const block = Buffer.alloc(BLOCK);
  let overflow = false;
  const nameBytes = Buffer.from(name);
  nameBytes.copy(block, 0, 0, Math.min(100, nameBytes.length));
  if (nameBytes.length > 100) overflow = true;
  overflow = !octal(block, 100, 8, fields.mode) || overflow;
  if (!octal(block, 108, 8, fields.uid)) overflow = true;
  if (!octal(block, 116, 8, fields.gid)) overflow = true;
  if (!octal(block, 124, 12, fields.size)) overflow = true;
  if (!octal(block, 136, 12, Math.max(0, fields.mtime))) overflow = true;
  block.write(typeflag, 156, 'ascii');
  const link = Buffer.from(fields.linkname);
  link.copy(block, 157, 0, Math.min(100, link.length));
  if (link.length > 100) overflow = true;
  block.write('ustar\u000000', 257, 'latin1');
  octal(block, 329, 8, fields.devmajor);
  octal(block, 337, 8, fields.devminor);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return { block, overflow };
}

/**
 * The header blocks of one entry: a PAX extended header first when a name, link target or number does not fit
 * ustar, or when there are xattrs; then the ustar header. The entry's data (for files) follows, padded with
 * {@link tarPadding}.
 *
 * @throws ERR_INVALID_ARGUMENT for a name or link target holding a NUL, or a negative number.
 */
export function tarHeader(h: TarWriteHeader): Buffer {
  if (h.name.includes('\0') || (h.linkname ?? '').includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'tar names must not contain NUL');
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  if (![h.mode, h.uid, h.gid, size].every((n) => Number.isSafeInteger(n) && n >= 0))
    throw newError('ERR_INVALID_ARGUMENT', `bad numbers in the tar header of ${h.name}`);
  const name = h.type === 'dir' ? `${h.name}/` : h.name;
  const fields = {
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    size,
    mtime: Math.floor(h.mtime),
    linkname: h.linkname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
  const main = rawHeader(name, TYPEFLAG[h.type], fields);
  const records: Buffer[] = [];
  if (main.overflow || (h.xattrs && h.xattrs.size > 0)) {
    if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', Buffer.from(name)));
    if (Buffer.byteLength(fields.linkname) > 100) records.push(paxRecord('linkpath', Buffer.from(fields.linkname)));
    if (fields.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(fields.uid))));
    if (fields.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(fields.gid))));
    if (size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(size))));
    for (const key of [...(h.xattrs?.keys() ?? [])].sort()) records.push(paxRecord(`SCHILY.xattr.${key}`, h.xattrs!.get(key)!));
  }
  if (records.length === 0) return main.block;
  const body = Buffer.concat(records);
  const paxName = `PaxHeaders/${Buffer.from(name).subarray(0, 80).toString('latin1')}`;
  const pax = rawHeader(paxName, 'x', {
    ...fields,
    uid: 0,
    gid: 0,
    mode: 0o644,
    size: body.length,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    mtime: Math.max(0, fields.mtime),
  }).block;
  // The main header keeps what fits; readers take the PAX values over it.
  if (main.overflow) {
    const clamp = rawHeader(Buffer.from(name).subarray(0, 100).toString('latin1'), TYPEFLAG[h.type], {
      ...fields,
      uid: Math.min(fields.uid, 0o7777777),
      gid: Math.min(fields.gid, 0o7777777),
      size: size > 0o77777777777 ? 0 : size,
      linkname: Buffer.from(fields.linkname).subarray(0, 100).toString('latin1'),
    });
    return Buffer.concat([pax, body, tarPadding(body.length), clamp.block]);
  }
  return Buffer.concat([pax, body, tarPadding(body.length), main.block]);
}

/** Zero bytes that pad `size` bytes of data to a whole 512-byte block. */
export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}
