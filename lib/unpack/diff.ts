import { randomBytes } from 'node:crypto';
import { type BigIntStats, createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ContainerkitError, newError } from '../errors/index.js';
import { logger, shortId } from '../util/debug.js';
import { DigestCalculator } from '../util/digest-stream.js';
import { fsError } from '../util/fs-error.js';
import { readXattrTree } from '../util/fs-tools.js';
import { CHUNK_SIZE } from './decompress.js';
import { overlayUpper, withTree } from './snapshot-mounts.js';
import type { Snapshotter } from './snapshotter.js';
import { type TarWriteHeader, tarEnd, tarHeader, tarPadding } from './tar-writer.js';

const log = logger('unpack:diff');

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const OVERLAY_OPAQUE = 'trusted.overlay.opaque';

/** Options of the diff functions. */
export interface DiffOptions {
  /** gzip level 1–9. Default 6 (zlib's default; the output is the same for the same changes). */
  level?: number;
  /** `gzip` (default) or `none`: the blob is the tar itself, its digest equal to its diff_id. */
  compression?: 'gzip' | 'none';
  /** Cancels the diff; a file output is left partial (the caller removes it). Rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The layer a diff wrote. */
export interface DiffResult {
  /** Digest of the gzip blob (the manifest's layer `digest`). */
  digest: string;
  /** Size of the blob in bytes. */
  size: number;
  /** Digest of the uncompressed tar (the config's `diff_id`). */
  diffId: string;
  /** `application/vnd.oci.image.layer.v1.tar+gzip`, or `application/vnd.oci.image.layer.v1.tar` for `compression: 'none'`. */
  mediaType: string;
}

/** One change, in tar order: an entry copied from `abs`, or a whiteout / opaque marker. */
interface Change {
  name: string;
  abs?: string;
  marker?: 'whiteout' | 'opaque';
  /** The stat of `abs`, or of the directory a marker sits in (its times and owner are reused). */
  st: BigIntStats;
}

type Xattrs = Map<string, Map<string, Buffer>>;

function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function lstatMaybe(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw fsError(err, 'inspect', path);
  }
}

function kindOf(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

function sameXattrs(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  const x = [...(a ?? new Map<string, Buffer>())].filter(([k]) => !k.startsWith('trusted.overlay.'));
  const y = [...(b ?? new Map<string, Buffer>())].filter(([k]) => !k.startsWith('trusted.overlay.'));
  return x.length === y.length && x.every(([k, v]) => b?.get(k)?.equals(v) === true);
}

/**
 * The changes of an overlay upper dir: every entry in it, except that a 0/0 character device becomes a
 * `.wh.<name>` whiteout and a directory with `trusted.overlay.opaque=y` is followed by `.wh..wh..opq`.
 */
async function overlayChanges(upper: string, xattrs: Xattrs, signal: AbortSignal | undefined): Promise<Change[]> {
  const out: Change[] = [];
  const visit = async (rel: string, abs: string): Promise<void> => {
    signal?.throwIfAborted();
    const items: Array<{ name: string; change: Change; dir?: string }> = [];
    for (const name of await readdir(abs)) {
      const path = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path, { bigint: true });
      if (st.isCharacterDevice() && st.rdev === 0n) {
        const wh = rel === '' ? `${WHITEOUT}${name}` : `${rel}/${WHITEOUT}${name}`;
        items.push({ name: wh, change: { name: wh, marker: 'whiteout', st } });
      } else {
        items.push({ name: childRel, change: { name: childRel, abs: path, st }, ...(st.isDirectory() ? { dir: path } : {}) });
      }
    }
    items.sort((a, b) => bytewise(a.name, b.name));
    for (const item of items) {
      out.push(item.change);
      if (item.dir === undefined) continue;
      if (xattrs.get(item.dir)?.get(OVERLAY_OPAQUE)?.toString() === 'y') out.push({ name: `${item.name}/${OPAQUE}`, marker: 'opaque', st: item.change.st });
      await visit(item.name, item.dir);
    }
  };
  await visit('', upper);
  return out;
}

/**
 * The changes from `lower` to `upper` (two full trees): entries new or changed in `upper` (type, mode, owner,
 * size, mtime to the nanosecond, link target, device numbers or xattrs differ), `.wh.<name>` for what `upper`
 * lacks, and the parent directories of every change. Content is not compared when all metadata agree (copies
 * made with `cp -a` keep mtimes, so an untouched file compares equal).
 */
async function treeChanges(lower: string | undefined, upper: string, lowerX: Xattrs, upperX: Xattrs, signal: AbortSignal | undefined): Promise<Change[]> {
  const visit = async (rel: string, uAbs: string, lAbs: string | undefined): Promise<Change[]> => {
    signal?.throwIfAborted();
    const out: Array<{ key: string; changes: Change[] }> = [];
    const names = await readdir(uAbs);
    const lowerNames = lAbs === undefined ? [] : await readdir(lAbs);
    const present = new Set(names);
    const dirSt = await lstat(uAbs, { bigint: true });
    for (const name of lowerNames) {
      if (present.has(name)) continue;
      const wh = rel === '' ? `${WHITEOUT}${name}` : `${rel}/${WHITEOUT}${name}`;
      out.push({ key: wh, changes: [{ name: wh, marker: 'whiteout', st: dirSt }] });
    }
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const u = join(uAbs, name);
      const us = await lstat(u, { bigint: true });
      const l = lAbs === undefined ? undefined : join(lAbs, name);
      const ls = l === undefined ? undefined : await lstatMaybe(l);
      let changed = ls === undefined || kindOf(ls) !== kindOf(us);
      if (!changed && ls !== undefined) {
        changed =
          us.mode !== ls.mode ||
          us.uid !== ls.uid ||
          us.gid !== ls.gid ||
          us.mtimeNs !== ls.mtimeNs ||
          (us.isFile() && us.size !== ls.size) ||
          ((us.isCharacterDevice() || us.isBlockDevice()) && us.rdev !== ls.rdev) ||
          (us.isSymbolicLink() && (await readlink(u)) !== (await readlink(l!))) ||
          !sameXattrs(upperX.get(u), lowerX.get(l!));
      }
      const self: Change = { name: childRel, abs: u, st: us };
      if (us.isDirectory()) {
        const lowerDir = ls?.isDirectory() ? l : undefined;
        const below = await visit(childRel, u, lowerDir);
        if (changed || below.length > 0) out.push({ key: childRel, changes: [self, ...below] });
      } else if (changed) {
        out.push({ key: childRel, changes: [self] });
      }
    }
    out.sort((a, b) => bytewise(a.key, b.key));
    return out.flatMap((o) => o.changes);
  };
  return visit('', upper, lower);
}

function typeOf(st: BigIntStats): TarWriteHeader['type'] | undefined {
  const kind = kindOf(st);
  return kind === 'socket' ? undefined : (kind as TarWriteHeader['type']);
}

/** The tar stream of `changes`: headers, file data read in 1 MiB chunks, hardlinks for inodes seen before. */
async function* tarOf(changes: Change[], xattrs: Xattrs, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  for (const change of changes) {
    signal?.throwIfAborted();
    const mtime = Number(change.st.mtimeNs / 1_000_000_000n);
    if (change.marker !== undefined) {
      const base = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime, size: 0 };
      yield tarHeader({ ...base, name: change.name });
      continue;
    }
    const st = change.st;
    const type = typeOf(st);
    if (type === undefined) {
      log('skipping socket %s', change.name);
      continue;
    }
    const own = new Map([...(xattrs.get(change.abs!) ?? new Map<string, Buffer>())].filter(([k]) => !k.startsWith('trusted.overlay.')));
    const header: TarWriteHeader = { name: change.name, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime, xattrs: own };
    if (type !== 'dir' && st.nlink > 1n) {
      const id = `${st.dev}:${st.ino}`;
      const first = links.get(id);
      if (first !== undefined) {
        yield tarHeader({ ...header, type: 'hardlink', linkname: first });
        continue;
      }
      links.set(id, change.name);
    }
    if (type === 'symlink') header.linkname = await readlink(change.abs!);
    if (type === 'char' || type === 'block') {
      const rdev = Number(st.rdev);
      header.devmajor = Number((BigInt(rdev) >> 8n) & 0xfffn);
      header.devminor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    }
    if (type !== 'file') {
      yield tarHeader(header);
      continue;
    }
    const size = Number(st.size);
    yield tarHeader({ ...header, size });
    let written = 0;
    if (size > 0) {
      for await (const chunk of createReadStream(change.abs!, { highWaterMark: CHUNK_SIZE, start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
        written += chunk.length;
        yield chunk;
      }
    }
    if (written !== size)
      throw newError('ERR_FAILED_PRECONDITION', `${change.abs} changed size while it was read for a diff`, { details: { path: change.abs } });
    yield tarPadding(size);
  }
  yield tarEnd();
}

function validate(out: unknown, options: DiffOptions): void {
  if (typeof out !== 'string' && (typeof out !== 'object' || out === null || typeof (out as Writable).write !== 'function')) {
    throw newError('ERR_INVALID_ARGUMENT', 'out must be a file path or a writable stream');
  }
  if (typeof out === 'string' && out === '') throw newError('ERR_INVALID_ARGUMENT', 'out must not be empty');
  const { level, compression, signal } = options;
  if (compression !== undefined && compression !== 'gzip' && compression !== 'none')
    throw newError('ERR_INVALID_ARGUMENT', 'options.compression must be gzip or none');
  if (level !== undefined && (!Number.isInteger(level) || level < 1 || level > 9))
    throw newError('ERR_INVALID_ARGUMENT', 'options.level must be an integer from 1 to 9');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
}

async function writeLayer(changes: Change[], xattrs: Xattrs, out: string | Writable, options: DiffOptions): Promise<DiffResult> {
  const { signal, level = 6, compression = 'gzip' } = options;
  const tarHash = new DigestCalculator(undefined, { highWaterMark: CHUNK_SIZE });
  const sink = typeof out === 'string' ? createWriteStream(out, { mode: 0o644 }) : out;
  const source = Readable.from(tarOf(changes, xattrs, signal), { objectMode: false });
  let result: DiffResult;
  if (compression === 'none') {
    await pipeline(source, tarHash, sink, { signal });
    result = { digest: tarHash.digest(), size: tarHash.size, diffId: tarHash.digest(), mediaType: 'application/vnd.oci.image.layer.v1.tar' };
  } else {
    const blobHash = new DigestCalculator(undefined, { highWaterMark: CHUNK_SIZE });
    await pipeline(source, tarHash, createGzip({ level, chunkSize: CHUNK_SIZE }), blobHash, sink, { signal });
    result = { digest: blobHash.digest(), size: blobHash.size, diffId: tarHash.digest(), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  }
  log('diff layer %s (diff_id %s), %d entries', shortId(result.digest), shortId(result.diffId), changes.length);
  return result;
}

async function guarded<T>(signal: AbortSignal | undefined, what: string, fn: () => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  try {
    return await fn();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof ContainerkitError) throw err;
    throw newError('ERR_IO', `diff of ${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Writes the OCI layer (tar + gzip, or the bare tar with `compression: 'none'`) of the changes an overlay upper dir holds: its entries, `.wh.<name>` for each
 * 0/0 character device (an overlay whiteout), `.wh..wh..opq` after each directory marked
 * `trusted.overlay.opaque=y`. `trusted.overlay.*` xattrs are never copied into the layer. Entries are in byte
 * order of their names and owners/modes/whole-second mtimes come from the files, so the same changes give the
 * same blob.
 *
 * @param out a file path (created or truncated) or a writable stream (ended when done).
 * @throws ERR_INVALID_ARGUMENT for bad arguments; ERR_TOOL_MISSING / ERR_TOOL_FAILED from getfattr; ERR_IO and
 *   ERR_NOT_FOUND from the file system. Rejects with `signal.reason` on abort.
 */
export async function diffOverlayUpper(upper: string, out: string | Writable, options: DiffOptions = {}): Promise<DiffResult> {
  if (typeof upper !== 'string' || upper === '') throw newError('ERR_INVALID_ARGUMENT', 'upper must be a non-empty path');
  validate(out, options);
  const { signal } = options;
  return guarded(signal, upper, async () => {
    const xattrs = await readXattrTree(upper, signal);
    return writeLayer(await overlayChanges(upper, xattrs, signal), xattrs, out, options);
  });
}

/**
 * Writes the OCI layer (tar + gzip) that turns the tree `lower` into the tree `upper` (`lower` undefined: the
 * whole of `upper`). An entry of `upper` is a change when it is new, or its type, mode, owner, size, mtime (to the
 * nanosecond), link target, device numbers or xattrs differ; contents are not compared when all of those agree
 * (`cp -a` copies keep mtimes, so an untouched file compares equal). What `upper` lacks becomes `.wh.<name>`; the
 * parent directories of every change are included. Deterministic like {@link diffOverlayUpper}. Same errors.
 */
export async function diffDirectories(lower: string | undefined, upper: string, out: string | Writable, options: DiffOptions = {}): Promise<DiffResult> {
  if (typeof upper !== 'string' || upper === '') throw newError('ERR_INVALID_ARGUMENT', 'upper must be a non-empty path');
  if (lower !== undefined && (typeof lower !== 'string' || lower === '')) throw newError('ERR_INVALID_ARGUMENT', 'lower must be a non-empty path or undefined');
  validate(out, options);
  const { signal } = options;
  return guarded(signal, upper, async () => {
    const upperX = await readXattrTree(upper, signal);
    const lowerX = lower === undefined ? new Map<string, Map<string, Buffer>>() : await readXattrTree(lower, signal);
    return writeLayer(await treeChanges(lower, upper, lowerX, upperX, signal), upperX, out, options);
  });
}

/**
 * Writes the OCI layer of an active snapshot's changes against its parent, from the snapshot's mounts as
 * containerd's differs read them: one overlay with an upper dir is read directly ({@link diffOverlayUpper}); else
 * the snapshot's tree (a bind's source, or its mounts on a temporary directory) is compared with a temporary view
 * of its parent ({@link diffDirectories}), removed again afterwards. Temporary mounts are unmounted on every path.
 * Commit the snapshot after the diff, under the chain ID that the result's `diffId` gives.
 *
 * @throws ERR_NOT_FOUND for an unknown key; ERR_FAILED_PRECONDITION for a committed one; else as above and the
 *   errors of mounting.
 */
export async function diffSnapshot(snapshotter: Snapshotter, key: string, out: string | Writable, options: DiffOptions = {}): Promise<DiffResult> {
  validate(out, options);
  const { signal } = options;
  const call = signal === undefined ? {} : { signal };
  const mounts = await snapshotter.mounts(key, call);
  const info = await snapshotter.stat(key, call);
  if (info.kind !== 'active') throw newError('ERR_FAILED_PRECONDITION', `snapshot ${key} is not active`, { details: { key } });
  const upper = overlayUpper(mounts);
  if (upper !== undefined) return diffOverlayUpper(upper, out, options);
  const { parent } = info;
  if (parent === undefined) return withTree(mounts, (tree) => diffDirectories(undefined, tree, out, options), call);
  const viewKey = `diff-view-${randomBytes(8).toString('hex')}`;
  const lowerMounts = await snapshotter.view(viewKey, parent, call);
  try {
    return await withTree(lowerMounts, (lower) => withTree(mounts, (tree) => diffDirectories(lower, tree, out, options), call), call);
  } finally {
    await snapshotter.remove(viewKey).catch((e: unknown) => log('cannot remove %s: %s', viewKey, (e as Error).message));
  }
}
