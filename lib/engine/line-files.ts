import { type FileHandle, open, stat } from 'node:fs/promises';
import { errnoOf, fsError } from '../util/fs-error.js';
import { sleep } from '../util/index.js';

// Reading line files that rotate once: `<path>` is written, and renamed to `<path>.1` (replacing the older one)
// when full. Both the container logger and the events log work this way. A line is complete when its '\n' is on
// disk; a trailing part without one is being written (kept back while following) or torn by a crash (dropped).
// Lines longer than `maxLineBytes` are dropped whole: they are hostile or corrupt, and must not be buffered.

const CHUNK = 64 * 1024;
const NL = 0x0a;

/** A position in a rotating file: the inode it was read from and the offset after the last complete line. */
export interface FileCursor {
  ino: number;
  offset: number;
}

/** Options of {@link rotatingLines}. */
export interface RotatingLinesOptions {
  /** Where to begin: 'start' reads `<path>.1` then `<path>` from their beginnings; a cursor resumes after it. */
  from: 'start' | FileCursor;
  /** Keep waiting for new lines (across rotations) after the end of what is written. */
  follow: boolean;
  /** Poll interval while following, in ms. */
  pollMs: number;
  maxLineBytes: number;
  /** Ends the iteration: quietly while following, with `signal.reason` before. */
  signal?: AbortSignal;
  /** Asked while following each time nothing new was found; true ends the iteration after a last read. */
  shouldStop?: () => boolean | Promise<boolean>;
}

/** Splits bytes into complete lines, dropping overlong ones; keeps the unfinished rest. */
class LineSplitter {
  #rest: Buffer[] = [];
  #restBytes = 0;
  #skipping = false;
  constructor(readonly maxLineBytes: number) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, start)) {
      const part = chunk.subarray(start, nl);
      if (!this.#skipping && this.#restBytes + part.length <= this.maxLineBytes) {
        lines.push(Buffer.concat([...this.#rest, part]).toString('utf8'));
      }
      this.#rest = [];
      this.#restBytes = 0;
      this.#skipping = false;
      start = nl + 1;
    }
    if (start < chunk.length && !this.#skipping) {
      const part = chunk.subarray(start);
      this.#restBytes += part.length;
      if (this.#restBytes > this.maxLineBytes) {
        this.#skipping = true;
        this.#rest = [];
      } else {
        this.#rest.push(Buffer.from(part));
      }
    }
    return lines;
  }

  /** Forgets an unfinished line (the file it was in is finished: the line is torn). */
  reset(): void {
    this.#rest = [];
    this.#restBytes = 0;
    this.#skipping = false;
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw fsError(err, 'open', path);
  }
}

async function inoOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw fsError(err, 'stat', path);
  }
}

/** Reads `fh` from `offset` to its current end; returns the complete lines and the offset after the bytes read. */
async function readOn(fh: FileHandle, offset: number, splitter: LineSplitter, buf: Buffer): Promise<{ lines: string[]; offset: number }> {
  const lines: string[] = [];
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    if (bytesRead === 0) return { lines, offset };
    offset += bytesRead;
    lines.push(...splitter.push(buf.subarray(0, bytesRead)));
  }
}

/**
 * The older and the current file, opened as one consistent pair: when a rotation happens between the two opens
 * (the "older" one is the current one just moved), it is tried again.
 */
export async function openPair(path: string): Promise<{ older?: FileHandle; current?: FileHandle }> {
  for (;;) {
    const current = await openIfExists(path);
    const older = await openIfExists(`${path}.1`);
    if (current === undefined || older === undefined) return { older, current };
    if ((await current.stat()).ino !== (await older.stat()).ino) return { older, current };
    await Promise.all([current.close(), older.close()]);
  }
}

/**
 * The complete lines of a rotating line file, oldest first (see the note atop this file); while following, new
 * lines as they are written, also by other processes, and on through rotations. A line written to the old file
 * after the follower moved on to the new one is missed (the writer had opened it before the rotation).
 * @throws ERR_IO when a file cannot be read.
 */
export async function* rotatingLines(path: string, options: RotatingLinesOptions): AsyncGenerator<string> {
  const { from, follow, pollMs, signal, shouldStop } = options;
  const splitter = new LineSplitter(options.maxLineBytes);
  const buf = Buffer.alloc(CHUNK);
  const aborted = (): boolean => {
    if (!signal?.aborted) return false;
    if (follow) return true;
    throw signal.reason;
  };
  let fh: FileHandle | undefined;
  let ino = -1;
  let offset = 0;
  try {
    const { older, current } = await openPair(path);
    fh = current;
    if (fh !== undefined) ino = (await fh.stat()).ino;
    let olderStart: number | undefined = from === 'start' ? 0 : undefined;
    if (from !== 'start' && ino === from.ino) offset = from.offset;
    else if (from !== 'start' && older !== undefined) {
      // The cursor's file was rotated: resume in it, or, when it is gone too, read the generation after it whole.
      olderStart = (await older.stat()).ino === from.ino ? from.offset : 0;
    }
    if (older !== undefined) {
      try {
        if (olderStart !== undefined) {
          const read = await readOn(older, olderStart, splitter, buf);
          for (const line of read.lines) yield line;
        }
      } finally {
        await older.close();
      }
      splitter.reset();
    }
    for (;;) {
      if (aborted()) return;
      if (fh !== undefined) {
        const read = await readOn(fh, offset, splitter, buf);
        offset = read.offset;
        for (const line of read.lines) yield line;
        if (read.lines.length > 0) continue;
      }
      if (!follow) return;
      const now = await inoOf(path);
      if (now !== undefined && now !== ino) {
        // Rotated: read what reached the old file before the rename; when it rotated twice, the file in between
        // (now `.1`) was never seen: read it whole; then the new file from 0. Three rotations between two polls
        // lose a generation: the log is bounded, a follower that far behind misses events.
        if (fh !== undefined) for (const line of (await readOn(fh, offset, splitter, buf)).lines) yield line;
        await fh?.close();
        fh = undefined;
        splitter.reset();
        const pair = await openPair(path);
        if (pair.older !== undefined) {
          try {
            if ((await pair.older.stat()).ino !== ino) for (const line of (await readOn(pair.older, 0, splitter, buf)).lines) yield line;
          } finally {
            await pair.older.close();
          }
          splitter.reset();
        }
        fh = pair.current;
        ino = fh === undefined ? -1 : (await fh.stat()).ino;
        offset = 0;
        continue;
      }
      if (fh !== undefined && (await fh.stat()).size < offset) {
        offset = 0; // truncated in place
        splitter.reset();
        continue;
      }
      if (shouldStop !== undefined && (await shouldStop())) {
        if (fh !== undefined) for (const line of (await readOn(fh, offset, splitter, buf)).lines) yield line;
        return;
      }
      try {
        await sleep(pollMs, signal);
      } catch {
        return;
      }
    }
  } finally {
    await fh?.close();
  }
}

/** Complete lines of one file, last first, from `end` down to its beginning. */
async function* backwardLines(fh: FileHandle, end: number, maxLineBytes: number, signal: AbortSignal | undefined): AsyncGenerator<string> {
  let pos = end;
  let carry: Buffer[] = []; // the beginning of a line whose end was read already, first chunk last
  let carryBytes = 0;
  let skipping = false;
  const buf = Buffer.alloc(CHUNK);
  while (pos > 0) {
    signal?.throwIfAborted();
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    if (bytesRead !== len) throw fsError(new Error('short read'), 'read backwards', `fd ${fh.fd}`);
    const chunk = buf.subarray(0, len);
    // `end` is just after a '\n' (see lastLineEnd): that one ends the newest line, it does not start one.
    let stop = pos + len === end ? len - 1 : len;
    const prevNl = (): number => (stop > 0 ? chunk.lastIndexOf(NL, stop - 1) : -1);
    for (let nl = prevNl(); nl !== -1; nl = prevNl()) {
      const part = chunk.subarray(nl + 1, stop);
      if (!skipping && carryBytes + part.length <= maxLineBytes) yield Buffer.concat([part, ...carry.reverse()]).toString('utf8');
      carry = [];
      carryBytes = 0;
      skipping = false;
      stop = nl;
    }
    if (stop > 0 && !skipping) {
      carryBytes += stop;
      if (carryBytes > maxLineBytes) {
        skipping = true;
        carry = [];
      } else {
        carry.push(Buffer.from(chunk.subarray(0, stop)));
      }
    }
  }
  if (!skipping && carryBytes > 0) yield Buffer.concat(carry.reverse()).toString('utf8');
}

/** Offset just after the last '\n' of `fh`'s first `size` bytes; 0 when there is none. */
async function lastLineEnd(fh: FileHandle, size: number): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  for (let pos = size; pos > 0; ) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    const nl = buf.subarray(0, len).lastIndexOf(NL);
    if (nl !== -1) return pos + nl + 1;
  }
  return 0;
}

/**
 * The complete lines of a rotating line file, newest first (`<path>` from its end, then `<path>.1`), read in
 * chunks from the end, and the cursor just after the newest complete line, where a forward read
 * ({@link rotatingLines} with `from: cursor`) picks up without a gap or a repeat. Call `close()` when done.
 * @throws ERR_IO when a file cannot be read; rejects with `signal.reason` on abort.
 */
export async function openBackward(
  path: string,
  maxLineBytes: number,
  signal?: AbortSignal,
): Promise<{ lines: AsyncGenerator<string>; end: FileCursor; close: () => Promise<void> }> {
  const { older, current } = await openPair(path);
  const close = async (): Promise<void> => {
    await Promise.all([older?.close(), current?.close()]);
  };
  try {
    const end: FileCursor = { ino: -1, offset: 0 };
    if (current !== undefined) {
      const st = await current.stat();
      end.ino = st.ino;
      end.offset = await lastLineEnd(current, st.size);
    }
    const olderEnd = older === undefined ? 0 : await lastLineEnd(older, (await older.stat()).size);
    // Caught between the writer's rename and its new file: the newest line read is in the older file.
    if (current === undefined && older !== undefined) Object.assign(end, { ino: (await older.stat()).ino, offset: olderEnd });
    async function* lines(): AsyncGenerator<string> {
      if (current !== undefined) yield* backwardLines(current, end.offset, maxLineBytes, signal);
      if (older !== undefined) yield* backwardLines(older, olderEnd, maxLineBytes, signal);
    }
    return { lines: lines(), end, close };
  } catch (err) {
    await close();
    throw err;
  }
}
