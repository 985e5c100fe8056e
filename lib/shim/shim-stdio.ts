import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { createFifos, logger, openFifo, removeFifo } from '../util/index.js';
import type { ShimOutputMode, ShimStdioOptions, ShimStdioRecord, ShimTerminalOptions } from './manager-types.js';

const log = logger('shim:stdio');

const MODES: readonly ShimOutputMode[] = ['pipe', 'file', 'log', 'null'];

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

/**
 * Checks stdio options and turns them into a record of paths under `dir` (file names prefixed by `prefix`). Pure.
 * @throws ERR_INVALID_ARGUMENT for unknown modes, or a `stderr` that differs from a `'file'`/`'log'` `stdout`.
 */
export function planStdio(dir: string, prefix: string, options: ShimStdioOptions | ShimTerminalOptions = {}): ShimStdioRecord {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options.stdio must be an object');
  const terminal = options.terminal === true;
  const stdoutMode = options.stdout ?? 'pipe';
  const stderrMode = terminal ? 'null' : ((options as ShimStdioOptions).stderr ?? stdoutMode);
  for (const [name, mode] of [['stdout', stdoutMode], ['stderr', stderrMode]] as const) {
    if (!MODES.includes(mode)) throw newError('ERR_INVALID_ARGUMENT', `options.stdio.${name} must be one of ${MODES.join(', ')}`);
  }
  const merged = stdoutMode === 'file' || stdoutMode === 'log';
  if (merged && !terminal && stderrMode !== stdoutMode) {
    throw newError('ERR_INVALID_ARGUMENT', `options.stdio.stderr must be '${stdoutMode}' or left out when stdout is '${stdoutMode}': the shim writes both streams there`);
  }
  if (!merged && (stderrMode === 'file' || stderrMode === 'log')) {
    throw newError('ERR_INVALID_ARGUMENT', `options.stdio.stderr may be '${stderrMode}' only when stdout is too`);
  }
  const record: ShimStdioRecord = { terminal, stdoutMode, stderrMode };
  if (options.stdin === true) record.stdin = join(dir, `${prefix}stdin`);
  // With FIFO stdio the 1.6 shim opens every output path it is given or not ("" fails), so a 'null' stream beside
  // a FIFO one still gets a FIFO, which this side drains and drops.
  const fifos = !terminal && (stdoutMode === 'pipe' || stderrMode === 'pipe' || options.stdin === true) && !merged;
  if (stdoutMode === 'pipe' || (fifos && stdoutMode === 'null')) record.stdout = join(dir, `${prefix}stdout`);
  if (stderrMode === 'pipe' || (fifos && stderrMode === 'null')) record.stderr = join(dir, `${prefix}stderr`);
  if (stdoutMode === 'file') record.logPath = join(dir, `${prefix}output.log`);
  if (stdoutMode === 'log') record.logPath = join(dir, `${prefix}container.log`);
  return record;
}

/** The URIs for the shim of a planned stdio. Pure. */
export function stdioUris(record: ShimStdioRecord, loggerConfig: LoggerConfig): StdioUris {
  let stdout = record.stdout ?? '';
  let stderr = record.stderr ?? '';
  if (record.stdoutMode === 'file') {
    stdout = `file://${record.logPath!}`;
    stderr = stdout;
  } else if (record.stdoutMode === 'log') {
    // The shim passes each query pair as two arguments (in no set order).
    const query = new URLSearchParams({ path: record.logPath!, max: String(loggerConfig.maxBytes) });
    stdout = `binary://${loggerConfig.binary}?${query.toString()}`;
    stderr = stdout;
  }
  return { stdin: record.stdin ?? '', stdout, stderr: record.terminal ? '' : stderr, terminal: record.terminal };
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

/** Removes the FIFOs (and a `'file'`/`'log'` output with its rotations) of a planned stdio. */
export async function removeStdio(record: ShimStdioRecord): Promise<void> {
  for (const key of ['stdin', 'stdout', 'stderr'] as const) {
    const path = record[key];
    if (path !== undefined) await removeFifo(path).catch((err: Error) => log('cannot remove %s: %s', path, err.message));
  }
  if (record.logPath !== undefined) {
    for (const p of [record.logPath, `${record.logPath}.1`]) await rm(p, { force: true });
  }
}
