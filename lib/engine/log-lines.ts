// Container log records (the C logger's JSON lines) and how records make lines. The logger cuts a line longer
// than 16 KiB into several records of which only the last ends in '\n'; the pieces of one stream join until
// one does. stdout and stderr records interleave, so joining is per stream.

/** A container's output stream. */
export type LogStream = 'stdout' | 'stderr';

/** One line of a container's output. */
export interface LogEntry {
  stream: LogStream;
  /** When the line was complete (its last record was read by the logger): RFC 3339 UTC with nanoseconds, as written. */
  time: string;
  /** The line with its '\n' (absent on a last line that had none, or one cut at `maxLineBytes`). */
  line: string;
}

/** One record as the logger writes it, with its time in ms for filtering. @internal */
export interface LogRecord {
  stream: LogStream;
  time: string;
  ms: number;
  log: string;
}

/**
 * The record on one line of a container log, or undefined for a torn or hostile line (the reader skips it).
 * Pure. (lib/shim's `parseContainerLogLine` is the strict twin, which throws.)
 */
export function parseLogRecord(text: string): LogRecord | undefined {
  let v: { time?: unknown; stream?: unknown; log?: unknown };
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { time, stream, log } = v;
  if (typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof log !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : { stream, time, ms, log };
}

/** Joins records into lines, per stream, forward. @internal */
export class LineJoiner {
  readonly #pending = new Map<LogStream, { parts: string[]; bytes: number; time: string; ms: number }>();
  constructor(readonly maxLineBytes: number) {}

  /** Starts `stream`'s pending line with `text` (the unfinished line a tail left for a follower). */
  seed(stream: LogStream, text: string, time: string, ms: number): void {
    this.#pending.set(stream, { parts: [text], bytes: text.length, time, ms });
  }

  /** Adds a record; returns the line it completes, if any (with the time in ms for filtering). */
  push(rec: LogRecord): (LogEntry & { ms: number }) | undefined {
    const p = this.#pending.get(rec.stream) ?? { parts: [], bytes: 0, time: rec.time, ms: rec.ms };
    p.parts.push(rec.log);
    p.bytes += rec.log.length;
    p.time = rec.time;
    p.ms = rec.ms;
    if (!rec.log.endsWith('\n') && p.bytes < this.maxLineBytes) {
      this.#pending.set(rec.stream, p);
      return undefined;
    }
    this.#pending.delete(rec.stream);
    return { stream: rec.stream, time: p.time, ms: p.ms, line: p.parts.join('') };
  }

  /** The unfinished lines, as lines (the output ended without a newline), oldest first. */
  flush(): Array<LogEntry & { ms: number }> {
    const out = [...this.#pending].map(([stream, p]) => ({ stream, time: p.time, ms: p.ms, line: p.parts.join('') }));
    this.#pending.clear();
    return out.sort((a, b) => a.ms - b.ms);
  }
}
