import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { newError } from '../errors/index.js';
import { fsError } from './fs-error.js';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** Permission bits of the file, applied exactly (not masked by the umask). Default `0o644`. */
  mode?: number;
  /**
   * Whether to fsync the file before the rename and its directory after it, so the new content survives a
   * power loss, not just a crash of the process. Default `true`.
   */
  fsync?: boolean;
  /** Cancels the write before the rename; the old content stays, the temp file is removed, the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options for {@link writeJsonAtomic}. */
export interface WriteJsonAtomicOptions extends WriteFileAtomicOptions {
  /** Indentation passed to `JSON.stringify`. Default 2; `0` writes one line. A newline always ends the file. */
  space?: number;
}

/** Options for {@link readJsonFile}. */
export interface ReadJsonFileOptions {
  /** Cancels the read; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

// Written in slices so that an abort is noticed during a large write, not only after it.
const CHUNK = 1 << 20;

function validate(path: unknown, options: WriteFileAtomicOptions & { space?: unknown }): void {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  const { mode, fsync, space } = options;
  if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be an integer between 0 and 0o7777');
  }
  if (fsync !== undefined && typeof fsync !== 'boolean') throw newError('ERR_INVALID_ARGUMENT', 'options.fsync must be a boolean');
  if (space !== undefined && (!Number.isInteger(space) || (space as number) < 0 || (space as number) > 10)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.space must be an integer between 0 and 10');
  }
}

/** Makes a rename or link in `dir` durable: the directory entry is data of the directory. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces the file at `path` with `data` so that readers, and the disk after a crash, see either the whole old
 * content or the whole new content, never a mix. Writes a temp file with a unique name in the same directory
 * (`.<name>.<random>.tmp`, so the rename stays on one filesystem), fsyncs it, renames it over `path`, then
 * fsyncs the directory. On any failure before the rename the temp file is removed and `path` is untouched.
 * Concurrent writers do not corrupt the file: the last rename wins. The directory must exist.
 *
 * @throws ERR_INVALID_ARGUMENT for a bad path, data or option (before touching the disk).
 * @throws ERR_NOT_FOUND when the directory does not exist; ERR_IO for other filesystem failures (ENOSPC, EFBIG…).
 * Rejects with `signal.reason` when `signal` aborts before the rename.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  validate(path, options);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw newError('ERR_INVALID_ARGUMENT', 'data must be a string or a Uint8Array');
  }
  const { mode = 0o644, fsync = true, signal } = options;
  signal?.throwIfAborted();
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  let created = false;
  try {
    fh = await open(tmp, 'wx', mode);
    created = true;
    await fh.chmod(mode);
    for (let off = 0; off < bytes.length; ) {
      signal?.throwIfAborted();
      const { bytesWritten } = await fh.write(bytes, off, Math.min(CHUNK, bytes.length - off));
      off += bytesWritten;
    }
    if (fsync) await fh.sync();
    await fh.close();
    fh = undefined;
    signal?.throwIfAborted();
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    if (created) await unlink(tmp).catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    throw fsError(err, 'write', path);
  }
  if (fsync) {
    try {
      await syncDir(dir);
    } catch (err) {
      throw fsError(err, 'fsync the directory of', path);
    }
  }
}

/**
 * {@link writeFileAtomic} of `JSON.stringify(value, null, space)` plus a newline.
 *
 * @throws ERR_INVALID_ARGUMENT when `value` cannot be serialised (a cycle, a BigInt, or `undefined`), and the
 *   errors of {@link writeFileAtomic}.
 */
export async function writeJsonAtomic(path: string, value: unknown, options: WriteJsonAtomicOptions = {}): Promise<void> {
  validate(path, options);
  const { space = 2, ...rest } = options;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, space);
  } catch (err) {
    throw newError('ERR_INVALID_ARGUMENT', `value for ${path} cannot be serialised as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw newError('ERR_INVALID_ARGUMENT', `value for ${path} cannot be serialised as JSON`);
  await writeFileAtomic(path, `${text}\n`, rest);
}

/**
 * Reads and parses a JSON file, such as one written by {@link writeJsonAtomic}. The result is not validated:
 * the type parameter is the caller's claim.
 *
 * @returns the parsed value, or `undefined` when the file does not exist.
 * @throws ERR_CORRUPT_FILE when the file is not valid JSON; ERR_IO when it cannot be read.
 * Rejects with `signal.reason` when `signal` aborts.
 */
export async function readJsonFile<T = unknown>(path: string, options: ReadJsonFileOptions = {}): Promise<T | undefined> {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  const { signal } = options;
  signal?.throwIfAborted();
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, 'read', path);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw newError('ERR_CORRUPT_FILE', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err, details: { path } });
  }
}
