import { newError } from '../errors/index.js';

/**
 * One record of a container log written by containerkit's logger (`stdout: 'log'`): JSON lines like docker's
 * json-file driver, `{"time":"<RFC 3339, ns, UTC>","stream":"stdout"|"stderr","log":"<line with its \n>"}`. A line
 * longer than 16 KiB is split, between characters, into records of which only the last ends in `\n`; the last
 * record of a stream that ended without a newline has none. Bytes that are not well-formed UTF-8 arrive as U+FFFD,
 * one per byte (as docker writes them). Rotation: `container.log`, then `container.log.1` (older).
 */
export interface ContainerLogRecord {
  /** As written, with nanoseconds (`Date` would drop them). */
  time: string;
  stream: 'stdout' | 'stderr';
  log: string;
}

/**
 * Parses one line of a container log (see {@link ContainerLogRecord}). Pure.
 * @throws ERR_CORRUPT_FILE when the line is not such a record.
 */
export function parseContainerLogLine(line: string): ContainerLogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw newError('ERR_CORRUPT_FILE', 'container log line is not JSON', { cause: err, details: { line: line.slice(0, 200) } });
  }
  const { time, stream, log } = (value ?? {}) as Record<string, unknown>;
  if (typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof log !== 'string') {
    throw newError('ERR_CORRUPT_FILE', 'container log line lacks time, stream or log', { details: { line: line.slice(0, 200) } });
  }
  return { time, stream, log };
}
