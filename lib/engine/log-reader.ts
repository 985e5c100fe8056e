import { newError } from '../errors/index.js';
import { type FileCursor, rotatingLines } from './line-files.js';
import { LineJoiner, type LogEntry, type LogStream, parseLogRecord } from './log-lines.js';
import { tailLog } from './log-tail.js';

/** Options of {@link readContainerLog}. */
export interface ReadLogOptions {
  /** Include stdout. Default true. */
  stdout?: boolean;
  /** Include stderr. Default true. */
  stderr?: boolean;
  /** Only lines completed at or after this time. */
  since?: Date;
  /** Only lines completed at or before this time; a follower ends once it is past. */
  until?: Date;
  /** Prefix each `line` with its time and a space, as `docker logs --timestamps`. Default false. */
  timestamps?: boolean;
  /** Only the last `tail` lines (after the stream and time filters), across the rotation. Default: all. */
  tail?: number;
  /**
   * After what is written, wait for new lines, also across a rotation, until `signal` aborts, `until` passes, or
   * `stopWhen` says the container is gone (then what is left is read and unfinished lines come out). Default false.
   */
  follow?: boolean;
  /** For `follow`: a promise that settles, or a check that returns true, once the container's output has ended. */
  stopWhen?: Promise<unknown> | (() => boolean | Promise<boolean>);
  /** How often a follower looks for new records, in ms. Default 100. */
  pollMs?: number;
  /** Longer lines are cut into several of this many characters (the tail keeps such a line's end). Default 1 MiB. */
  maxLineBytes?: number;
  signal?: AbortSignal;
}

// A record holds at most 16 KiB of output, escaped (at most 6 bytes per byte), plus its frame.
const MAX_RECORD_BYTES = 16384 * 6 + 4096;

function validate(options: ReadLogOptions): void {
  const bad = (what: string): never => {
    throw newError('ERR_INVALID_ARGUMENT', what);
  };
  const { stdout, stderr, since, until, timestamps, tail, follow, stopWhen, pollMs, maxLineBytes } = options;
  for (const [key, v] of [
    ['stdout', stdout],
    ['stderr', stderr],
    ['timestamps', timestamps],
    ['follow', follow],
  ] as const) {
    if (v !== undefined && typeof v !== 'boolean') bad(`options.${key} must be a boolean`);
  }
  if (stdout === false && stderr === false) bad('at least one of options.stdout and options.stderr must be selected');
  for (const [key, v] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (v !== undefined && !(v instanceof Date && !Number.isNaN(v.getTime()))) bad(`options.${key} must be a valid Date`);
  }
  if (tail !== undefined && !(Number.isSafeInteger(tail) && tail >= 0)) bad('options.tail must be an integer >= 0');
  if (stopWhen !== undefined && typeof stopWhen !== 'function' && !(stopWhen instanceof Promise)) bad('options.stopWhen must be a promise or a function');
  if (pollMs !== undefined && !(Number.isFinite(pollMs) && pollMs > 0)) bad('options.pollMs must be a number > 0');
  if (maxLineBytes !== undefined && !(Number.isSafeInteger(maxLineBytes) && maxLineBytes >= 16384)) bad('options.maxLineBytes must be an integer >= 16384');
}

function stopCheck(stopWhen: ReadLogOptions['stopWhen'], untilMs: number | undefined): (() => boolean | Promise<boolean>) | undefined {
  let gone = false;
  if (stopWhen instanceof Promise)
    stopWhen.then(
      () => (gone = true),
      () => (gone = true),
    );
  const check = typeof stopWhen === 'function' ? stopWhen : undefined;
  if (stopWhen === undefined && untilMs === undefined) return undefined;
  return async () => gone || (untilMs !== undefined && Date.now() > untilMs) || (check !== undefined && (await check()));
}

/**
 * Reads a container's log as containerkit's C logger writes it (`<path>`, rotated to `<path>.1`; records in
 * lib/shim/container-log.ts's format): one entry per line of output, the 16 KiB pieces of a long line joined,
 * stdout and stderr told apart. With `tail`, the file is read from its end in chunks. Records that do not parse
 * (torn, hostile) are skipped. Takes no lock; a missing log reads as empty (and is waited for when following).
 * @throws ERR_INVALID_ARGUMENT for a bad option (before any I/O); ERR_IO when the log cannot be read.
 * Without `follow`, an abort rejects with `signal.reason`; a follower just ends.
 */
export function readContainerLog(path: string, options: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  validate(options);
  return read(path, options);
}

async function* read(path: string, options: ReadLogOptions): AsyncGenerator<LogEntry> {
  const { since, until, timestamps = false, tail, follow = false, pollMs = 100, maxLineBytes = 1 << 20, signal } = options;
  const streams = new Set<LogStream>([...(options.stdout === false ? [] : ['stdout' as const]), ...(options.stderr === false ? [] : ['stderr' as const])]);
  const sinceMs = since?.getTime();
  const untilMs = until?.getTime();
  const shouldStop = stopCheck(options.stopWhen, untilMs);
  const wanted = (e: { ms: number }): boolean => (sinceMs === undefined || e.ms >= sinceMs) && (untilMs === undefined || e.ms <= untilMs);
  const shown = ({ stream, time, line }: LogEntry): LogEntry => ({ stream, time, line: timestamps ? `${time} ${line}` : line });
  const joiner = new LineJoiner(maxLineBytes);
  let from: 'start' | FileCursor = 'start';
  if (tail !== undefined) {
    const found = await tailLog(path, { n: tail, streams, sinceMs, untilMs, follow, maxRecordBytes: MAX_RECORD_BYTES, maxLineBytes, signal });
    for (const entry of found.entries) yield shown(entry);
    if (!follow) return;
    for (const s of found.seeds) joiner.seed(s.stream, s.text, s.time, s.ms);
    from = found.end;
  }
  const lines = rotatingLines(path, { from, follow, pollMs, maxLineBytes: MAX_RECORD_BYTES, signal, shouldStop: follow ? shouldStop : undefined });
  for await (const text of lines) {
    const rec = parseLogRecord(text);
    if (rec === undefined || !streams.has(rec.stream)) continue;
    const entry = joiner.push(rec);
    if (entry === undefined) continue;
    if (follow && untilMs !== undefined && entry.ms > untilMs) return;
    if (wanted(entry)) yield shown(entry);
  }
  if (signal?.aborted) return;
  for (const entry of joiner.flush()) if (wanted(entry)) yield shown(entry);
}
