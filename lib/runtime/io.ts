/**
 * The stdio of a process runc starts. Without a terminal runc hands its own stdin/stdout/stderr to the container
 * process, so what runc is spawned with is what the container gets: pipes, this process's stdio, /dev/null, or
 * pipes connected to streams the caller owns.
 * @module
 */
import type { ChildProcess, StdioNull, StdioPipe } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { newError } from '../errors/index.js';

/**
 * - `'pipe'`: a pipe; the result or handle exposes its other end.
 * - `'inherit'`: this process's own fd (a real TTY here lets runc run a terminal for a foreground process).
 * - `'ignore'`: /dev/null.
 */
export type StdioMode = 'pipe' | 'inherit' | 'ignore';

/** Per stream: a mode, or a stream the caller owns (connected through a pipe; never ended by containerkit). */
export interface StdioStreams {
  stdin?: StdioMode | Readable;
  stdout?: StdioMode | Writable;
  stderr?: StdioMode | Writable;
}

/** One mode for all three streams, or per stream. */
export type StdioOption = StdioMode | StdioStreams;

type Slot = StdioMode | Readable | Writable;

/** The stdio as prepared for `spawn`, plus how to connect caller-owned streams once the child exists. */
export interface PreparedStdio {
  /** The `stdio` option for `child_process.spawn`. */
  spawn: [StdioPipe | StdioNull, StdioPipe | StdioNull, StdioPipe | StdioNull];
  /** Which of stdin/stdout/stderr are pipes the caller gets (not connected to a caller-owned stream). */
  exposed: [boolean, boolean, boolean];
  /** Connects caller-owned streams to the child's pipes. */
  connect(child: ChildProcess): void;
}

const MODES = new Set<unknown>(['pipe', 'inherit', 'ignore']);

function hasMethod(value: unknown, method: 'read' | 'write'): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

function checkSlot(name: 'stdin' | 'stdout' | 'stderr', value: unknown): Slot {
  if (MODES.has(value)) return value as StdioMode;
  // stdin must be readable (we pipe from it); stdout and stderr writable (we pipe into them).
  if (hasMethod(value, name === 'stdin' ? 'read' : 'write')) return value as Readable | Writable;
  throw newError('ERR_INVALID_ARGUMENT', `stdio.${name} must be "pipe", "inherit", "ignore" or a ${name === 'stdin' ? 'readable' : 'writable'} stream`);
}

/**
 * Validates `option` (throwing `ERR_INVALID_ARGUMENT`) and prepares it. `defaults` fills streams that
 * `option` leaves out (a per-stream object may name only some). For a `detached` process stdin cannot be a pipe
 * or a stream: Node destroys a child's stdin pipe when the child (runc) exits, so the process would read EOF at
 * once; `'pipe'` then means stdout and stderr, with stdin from /dev/null. Feeding a detached container's stdin
 * takes FIFOs, which is the ShimManager's business.
 */
export function prepareStdio(option: StdioOption | undefined, defaults: [StdioMode, StdioMode, StdioMode], detached = false): PreparedStdio {
  let slots: [Slot, Slot, Slot];
  if (option === undefined) {
    slots = [...defaults];
  } else if (typeof option === 'string') {
    if (!MODES.has(option)) throw newError('ERR_INVALID_ARGUMENT', `stdio must be "pipe", "inherit" or "ignore", got ${JSON.stringify(option)}`);
    // For a detached process 'pipe' means its output: stdin cannot be a pipe (below), so it reads /dev/null.
    slots = [detached && option === 'pipe' ? 'ignore' : option, option, option];
  } else if (typeof option === 'object' && option !== null) {
    slots = [
      option.stdin === undefined ? defaults[0] : checkSlot('stdin', option.stdin),
      option.stdout === undefined ? defaults[1] : checkSlot('stdout', option.stdout),
      option.stderr === undefined ? defaults[2] : checkSlot('stderr', option.stderr),
    ];
  } else {
    throw newError('ERR_INVALID_ARGUMENT', 'stdio must be "pipe", "inherit", "ignore" or { stdin, stdout, stderr }');
  }
  if (detached && slots[0] !== 'ignore' && slots[0] !== 'inherit') {
    throw newError('ERR_INVALID_ARGUMENT', 'stdio.stdin of a detached process must be "ignore" or "inherit": Node closes a pipe to it when runc exits');
  }
  const spawn = slots.map((s) => (typeof s === 'string' ? s : 'pipe')) as PreparedStdio['spawn'];
  const exposed = slots.map((s) => s === 'pipe') as PreparedStdio['exposed'];
  return {
    spawn,
    exposed,
    connect(child: ChildProcess): void {
      const [stdin, stdout, stderr] = slots;
      if (typeof stdin !== 'string' && child.stdin) {
        // The container may exit without reading all of it; that is not the caller's stream's error.
        child.stdin.on('error', () => undefined);
        (stdin as Readable).pipe(child.stdin);
      }
      if (typeof stdout !== 'string' && child.stdout) child.stdout.pipe(stdout as Writable, { end: false });
      if (typeof stderr !== 'string' && child.stderr) child.stderr.pipe(stderr as Writable, { end: false });
    },
  };
}

/** Throws `ERR_INVALID_ARGUMENT` unless `input` is absent, or a string or Buffer for a foreground process. */
export function checkInput(input: unknown, detach: boolean | undefined): void {
  if (input === undefined) return;
  if (detach) throw newError('ERR_INVALID_ARGUMENT', 'input applies to a foreground process only');
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) throw newError('ERR_INVALID_ARGUMENT', 'input must be a string or a Buffer');
}
