import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { OutputTarget, StdioOptions } from '../oci/index.js';
import { createFifos, logger, openFifo, removeFifo } from '../util/index.js';
import type { ShimStdioRecord } from './manager-types.js';

const log = logger('shim:stdio');

const MODES = ['pipe', 'log', 'null'] as const;
// What the 1.6 shim takes: an absolute FIFO path (no scheme), `file:///…` or `binary:///…`.
const URI = /^(?:\/|file:\/\/\/|binary:\/\/\/)./;

/** How the shim launches the logger for `'log'` output. */
export interface LoggerConfig {
  binary: string;
  maxBytes: number;
}

/** The open ends of a process's stdio on this side. */
export interface StdioEnds {
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
  /** FIFOs of 'null' streams, read and dropped. */
  drained?: Socket[];
}

/** What `create`/`exec` get: FIFO paths, `file://` or `binary://` URIs, or empty strings. */
export interface StdioUris {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

function checkTarget(target: unknown, name: string): OutputTarget {
  if (typeof target === 'object' && target !== null) {
    const { uri } = target as { uri?: unknown };
    if (typeof uri !== 'string' || !URI.test(uri))
      throw newError('ERR_INVALID_ARGUMENT', `options.stdio.${name}.uri must be an absolute FIFO path, a file:/// or a binary:/// URI`);
    return { uri };
  }
  if (!MODES.includes(target as (typeof MODES)[number]))
    throw newError('ERR_INVALID_ARGUMENT', `options.stdio.${name} must be one of ${MODES.join(', ')} or { uri }`);
  return target as OutputTarget;
}

// The shim picks the kind of stdio by stdout alone: a file:// or binary:// stdout (and our 'log', a binary://)
// takes stderr with it, anything else makes both FIFO paths.
const carriesBoth = (t: OutputTarget): boolean => t === 'log' || (typeof t === 'object' && !t.uri.startsWith('/'));
const isFifo = (t: OutputTarget): boolean => t === 'pipe' || (typeof t === 'object' && t.uri.startsWith('/'));
const sameTarget = (a: OutputTarget, b: OutputTarget): boolean => (typeof a === 'object' && typeof b === 'object' ? a.uri === b.uri : a === b);

/**
 * Checks stdio options and turns them into a record of paths under `dir` (file names prefixed by `prefix`). Pure.
 * @throws ERR_INVALID_ARGUMENT for unknown targets, or a `stderr` that differs from a stdout that carries both
 *   streams (`'log'`, `file://`, `binary://`).
 */
export function planStdio(dir: string, prefix: string, options: StdioOptions = {}): ShimStdioRecord {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options.stdio must be an object');
  const terminal = options.terminal === true;
  const stdoutMode = checkTarget(options.stdout ?? 'pipe', 'stdout');
  // With a terminal there is one output stream: stderr is ignored.
  const stderrMode = terminal ? 'null' : checkTarget(options.stderr ?? stdoutMode, 'stderr');
  const merged = carriesBoth(stdoutMode);
  if (merged && !terminal && !sameTarget(stderrMode, stdoutMode)) {
    throw newError(
      'ERR_INVALID_ARGUMENT',
      "options.stdio.stderr must be the same as stdout or left out when stdout is 'log', file:// or binary://: the shim writes both streams there",
    );
  }
  if (!merged && carriesBoth(stderrMode)) {
    throw newError('ERR_INVALID_ARGUMENT', "options.stdio.stderr may be 'log', file:// or binary:// only when stdout is the same");
  }
  const record: ShimStdioRecord = { terminal, stdoutMode, stderrMode };
  if (options.stdin === true) record.stdin = join(dir, `${prefix}stdin`);
  // With FIFO stdio the 1.6 shim opens every output path it is given or not ("" fails), so a 'null' stream beside
  // a FIFO one still gets a FIFO, which this side drains and drops.
  const fifos = !terminal && !merged && (isFifo(stdoutMode) || isFifo(stderrMode) || options.stdin === true);
  if (stdoutMode === 'pipe' || (fifos && stdoutMode === 'null')) record.stdout = join(dir, `${prefix}stdout`);
  if (stderrMode === 'pipe' || (fifos && stderrMode === 'null')) record.stderr = join(dir, `${prefix}stderr`);
  if (stdoutMode === 'log') record.logPath = join(dir, `${prefix}container.log`);
  return record;
}

/** The URIs for the shim of a planned stdio. Pure. */
export function stdioUris(record: ShimStdioRecord, loggerConfig: LoggerConfig): StdioUris {
  const uri = (target: OutputTarget, fifo: string | undefined): string => {
    if (typeof target === 'object') return target.uri;
    if (target !== 'log') return fifo ?? '';
    // The shim passes each query pair as two arguments (in no set order).
    const query = new URLSearchParams({ path: record.logPath!, max: String(loggerConfig.maxBytes) });
    return `binary://${loggerConfig.binary}?${query.toString()}`;
  };
  return {
    stdin: record.stdin ?? '',
    stdout: uri(record.stdoutMode, record.stdout),
    stderr: record.terminal ? '' : uri(record.stderrMode, record.stderr),
    terminal: record.terminal,
  };
}

// Opens the output FIFOs for reading; a 'null' stream's FIFO is drained and not exposed.
async function openOutputs(record: ShimStdioRecord, ends: StdioEnds, signal: AbortSignal | undefined): Promise<void> {
  for (const key of ['stdout', 'stderr'] as const) {
    const path = record[key];
    if (path === undefined) continue;
    const socket = await openFifo(path, 'r', { signal });
    if (record[key === 'stdout' ? 'stdoutMode' : 'stderrMode'] === 'pipe') ends[key] = socket;
    else {
      ends.drained = [...(ends.drained ?? []), socket];
      socket.resume();
    }
  }
}

/** Creates the FIFOs of a planned stdio and opens the output ends for reading (before `create`, as the shim needs). */
export async function createStdio(record: ShimStdioRecord, signal?: AbortSignal): Promise<StdioEnds> {
  const ends: StdioEnds = {};
  try {
    const paths = [record.stdin, record.stdout, record.stderr].filter((p): p is string => p !== undefined);
    if (paths.length > 0) await createFifos(paths, { signal });
    await openOutputs(record, ends, signal);
    return ends;
  } catch (err) {
    closeStdio(ends);
    await removeStdio(record);
    throw err;
  }
}

/**
 * Opens the stdin FIFO for writing once the shim holds its read end (after `create`/`exec`), waiting at most
 * `timeoutMs`. Resolves undefined when the process has no stdin, or no reader came (a stdin closed earlier).
 */
export async function openStdin(record: ShimStdioRecord, timeoutMs: number, signal?: AbortSignal): Promise<Socket | undefined> {
  if (record.stdin === undefined) return undefined;
  const limit = AbortSignal.timeout(timeoutMs);
  try {
    return await openFifo(record.stdin, 'w', { signal: signal === undefined ? limit : AbortSignal.any([signal, limit]) });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    log('no reader on %s: %s', record.stdin, (err as Error).message);
    return undefined;
  }
}

/** Opens the output ends of recorded FIFOs again (a reattaching manager). */
export async function reopenStdio(record: ShimStdioRecord, signal?: AbortSignal): Promise<StdioEnds> {
  const ends: StdioEnds = {};
  try {
    await openOutputs(record, ends, signal);
    ends.stdin = await openStdin(record, 200, signal);
  } catch (err) {
    closeStdio(ends);
    throw err;
  }
  return ends;
}

/** Closes this side's ends (the process keeps running; the shim holds its own ends). */
export function closeStdio(ends: StdioEnds): void {
  for (const s of [ends.stdin, ends.stdout, ends.stderr, ...(ends.drained ?? [])]) s?.destroy();
}

/** Removes the FIFOs this side made (and a `'log'` output with its rotation) of a planned stdio; `{ uri }` targets are the caller's. */
export async function removeStdio(record: ShimStdioRecord, options: { keepLog?: boolean } = {}): Promise<void> {
  for (const key of ['stdin', 'stdout', 'stderr'] as const) {
    const path = record[key];
    if (path !== undefined) await removeFifo(path).catch((err: Error) => log('cannot remove %s: %s', path, err.message));
  }
  if (record.logPath !== undefined && options.keepLog !== true) {
    for (const p of [record.logPath, `${record.logPath}.1`]) await rm(p, { force: true });
  }
}
