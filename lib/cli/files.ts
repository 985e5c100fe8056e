import { open, rename, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { fsError } from '../util/fs-error.js';

/** Reads at 1 MiB a chunk: smaller chunks slow hashing and inflating (see PERFORMANCE.md). */
const CHUNK = 1 << 20;

/**
 * A file to read, opened before its stream is made: a bad path is a coded error (ERR_NOT_FOUND, ERR_IO) here rather
 * than a stream's unhandled 'error' later.
 */
export async function openInputFile(path: string): Promise<Readable> {
  const handle = await open(path).catch((err: unknown) => Promise.reject(fsError(err, 'open', path)));
  return handle.createReadStream({ highWaterMark: CHUNK });
}

/**
 * Writes `path` through `write`, into a temporary file beside it that is renamed over `path` only once `write`
 * resolved: a failed or cancelled write leaves no half-written file. The directory must exist (ERR_NOT_FOUND).
 */
export async function writeOutputFile(path: string, write: (out: Writable) => Promise<void>): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'wx').catch((err: unknown) => Promise.reject(fsError(err, 'create', path)));
  const out = file.createWriteStream();
  try {
    await write(out);
    await rename(tmp, path).catch((err: unknown) => Promise.reject(fsError(err, 'create', path)));
  } catch (err) {
    // The stream owns the handle: destroying it closes the file (once) before the file is removed.
    if (!out.closed) await new Promise<void>((resolve) => out.destroy().once('close', () => resolve()));
    await rm(tmp, { force: true });
    throw err;
  }
}
