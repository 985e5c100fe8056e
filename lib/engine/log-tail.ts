import { type FileCursor, openBackward } from './line-files.js';
import { type LogEntry, type LogStream, parseLogRecord } from './log-lines.js';

/** What {@link tailLog} needs. @internal */
export interface TailOptions {
  /** How many lines, counted after the stream and time filters. */
  n: number;
  streams: ReadonlySet<LogStream>;
  sinceMs?: number;
  untilMs?: number;
  /** Whether a follower goes on: then a stream's newest, unfinished line is handed over, not counted. */
  follow: boolean;
  /** Cap of a raw record line. */
  maxRecordBytes: number;
  /** Cap of a joined line; of a longer one only its last `maxLineBytes` (or a little more) are kept. */
  maxLineBytes: number;
  signal?: AbortSignal;
}

/** The unfinished newest line of a stream, for the follower's joiner. @internal */
export interface TailSeed {
  stream: LogStream;
  text: string;
  time: string;
  ms: number;
}

/** What {@link tailLog} found. @internal */
export interface TailResult {
  entries: Array<LogEntry & { ms: number }>;
  seeds: TailSeed[];
  /** Where a follower resumes. */
  end: FileCursor;
}

interface OpenLine {
  kind: 'keep' | 'skip' | 'seed';
  parts: string[]; // newest piece first
  bytes: number;
  time: string;
  ms: number;
  pos: number;
}

/**
 * The last `n` lines of a container log across its rotation, read from the end in chunks (nothing but those lines
 * is buffered). Reading backwards, a record that ends in '\n' ends a line and begins the (older) previous one of
 * its stream; a record without '\n' is an earlier piece of the line being collected. A line's time is that of its
 * last record, so the count is decided as soon as a line's end is met; the scan goes on only until the counted
 * lines have all their pieces. Lines come out in the order their ends were written.
 * @internal
 */
export async function tailLog(path: string, options: TailOptions): Promise<TailResult> {
  const { n, streams, sinceMs, untilMs, follow, maxLineBytes, signal } = options;
  const { lines, end, close } = await openBackward(path, options.maxRecordBytes, signal);
  const open = new Map<LogStream, OpenLine>();
  const seen = new Set<LogStream>();
  const done = new Set<LogStream>();
  const entries: Array<LogEntry & { ms: number; pos: number }> = [];
  const seeds: TailSeed[] = [];
  let count = 0;
  let pos = 0;
  const finish = (stream: LogStream, o: OpenLine): void => {
    open.delete(stream);
    const text = o.parts.reverse().join('');
    if (o.kind === 'keep') entries.push({ stream, time: o.time, ms: o.ms, line: text, pos: o.pos });
    else if (o.kind === 'seed') seeds.push({ stream, text, time: o.time, ms: o.ms });
  };
  const finished = (): boolean => [...streams].every((s) => done.has(s) && !open.has(s)) || (count >= n && ![...open.values()].some((o) => o.kind !== 'skip'));
  try {
    for await (const text of lines) {
      if (finished()) break;
      pos++;
      const rec = parseLogRecord(text);
      if (rec === undefined || !streams.has(rec.stream) || done.has(rec.stream)) continue;
      const { stream } = rec;
      const o = open.get(stream);
      const ended = rec.log.endsWith('\n');
      if (o !== undefined && !ended) {
        if (o.kind !== 'skip' && o.bytes < maxLineBytes) {
          o.parts.push(rec.log);
          o.bytes += rec.log.length;
        }
        continue;
      }
      if (o !== undefined) finish(stream, o);
      const newest = !seen.has(stream);
      seen.add(stream);
      const line = { parts: [rec.log], bytes: rec.log.length, time: rec.time, ms: rec.ms, pos };
      if (newest && follow && !ended) {
        open.set(stream, { kind: 'seed', ...line });
        continue;
      }
      // Times only grow along a log, so a line older than `since` ends the stream's scan.
      if ((sinceMs !== undefined && rec.ms < sinceMs) || count >= n) {
        done.add(stream);
        continue;
      }
      const matches = untilMs === undefined || rec.ms <= untilMs;
      if (matches) count++;
      open.set(stream, { kind: matches ? 'keep' : 'skip', ...line });
    }
    for (const [stream, o] of [...open]) finish(stream, o);
  } finally {
    await lines.return(undefined);
    await close();
  }
  entries.sort((a, b) => b.pos - a.pos);
  return { entries: entries.map(({ pos: _pos, ...e }) => e), seeds, end };
}
