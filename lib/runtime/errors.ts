/**
 * Turning a failed runc call into a typed error that keeps the evidence: runc's own message from its JSON log
 * (`exec: "nosuch": executable file not found in $PATH`), the argv, the exit code or signal, and a stderr tail.
 * @module
 */
import { ContainerkitError, type ContainerkitErrorOptions, type ErrorCode } from '../errors/index.js';

const RUNC_BRAND = Symbol.for('containerkit.runc-error');
const STDERR_TAIL = 4096;

/** The evidence a {@link RuncError} carries in `details`. */
export interface RuncErrorDetails {
  /** The whole command line, binary first. */
  argv: string[];
  /** runc's exit code; `null` when it was killed by a signal. */
  exitCode: number | null;
  /** The signal that killed runc, if one did. */
  signal: NodeJS.Signals | null;
  /** The last error runc logged, when it logged one. */
  runcMessage?: string;
  /** The last 4 KiB of runc's stderr. */
  stderr: string;
  [key: string]: unknown;
}

/**
 * A runc call failed. `code` says how (classified from runc's own message), so `instanceof NotFoundError` and the
 * other category classes work; `instanceof RuncError` holds across duplicate installs of containerkit.
 */
export class RuncError extends ContainerkitError {
  declare readonly details: RuncErrorDetails;

  constructor(code: ErrorCode, message: string, details: RuncErrorDetails, options: Omit<ContainerkitErrorOptions, 'details'> = {}) {
    super(code, message, { ...options, details });
    Object.defineProperty(this, RUNC_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RUNC_BRAND] === true;
  }
}

/** One line of runc's `--log-format json` log. */
export interface RuncLogEntry {
  level: string;
  msg: string;
  time?: string;
}

/** Parses a JSON log; lines that are not JSON objects with `level` and `msg` (text logs, torn lines) are skipped. */
export function parseRuncLog(text: string): RuncLogEntry[] {
  const entries: RuncLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if (typeof value.level === 'string' && typeof value.msg === 'string') {
        entries.push({ level: value.level, msg: value.msg, ...(typeof value.time === 'string' ? { time: value.time } : {}) });
      }
    } catch {
      // a torn or foreign line: not evidence
    }
  }
  return entries;
}

/** The message of the last `error`/`fatal`/`panic` entry of a JSON log: the one runc exits on. */
export function lastRuncError(logText: string): string | undefined {
  const errors = parseRuncLog(logText).filter((e) => e.level === 'error' || e.level === 'fatal' || e.level === 'panic');
  return errors.at(-1)?.msg;
}

// Facts: the messages runc 1.1 prints for each case (captured in test/unit/runtime/errors.test.ts).
const RULES: Array<[RegExp, ErrorCode]> = [
  [/CRIU version check failed: .*(no such file or directory|executable file not found)/i, 'ERR_CRIU_MISSING'],
  [/criu failed|CRIU version check failed|criu.* (is|too) old|requires criu/i, 'ERR_CRIU_FAILED'],
  [/container does not exist|container .* does not exist|container not found/i, 'ERR_RUNC_CONTAINER_NOT_FOUND'],
  [/container with (given )?id (already )?exists|ID already exists|already exists/i, 'ERR_RUNC_CONTAINER_EXISTS'],
  [
    /container not running|is not running|container not paused|is not paused|cannot start an already running|cannot start a container that has stopped|that is not stopped|in a (stopped|paused) container|not in created state|container is paused|cannot pause|cannot resume/i,
    'ERR_RUNC_CONTAINER_STATE',
  ],
];

/** The error code for a runc message; `ERR_RUNC_FAILED` when no rule matches. */
export function classifyRuncMessage(message: string | undefined): ErrorCode {
  if (message === undefined) return 'ERR_RUNC_FAILED';
  for (const [pattern, code] of RULES) if (pattern.test(message)) return code;
  return 'ERR_RUNC_FAILED';
}

/** What a failed call left behind, for {@link runcFailure}. */
export interface RuncFailureInput {
  /** The whole command line, binary first. */
  argv: string[];
  /** `runc <verb>` and the id, for the message: `runc start c1`. */
  what: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What the call appended to the JSON log (may be empty). */
  logText: string;
  stderr: string;
  /** Extra evidence (e.g. criu's error lines). */
  extra?: Record<string, unknown>;
  cause?: unknown;
}

/** Builds the {@link RuncError} for a failed call: message `<what>: <runc's message>`, evidence in `details`. */
export function runcFailure(input: RuncFailureInput): RuncError {
  const { argv, what, exitCode, signal, logText, stderr, extra, cause } = input;
  const runcMessage = lastRuncError(logText);
  const tail = stderr.length > STDERR_TAIL ? stderr.slice(-STDERR_TAIL) : stderr;
  const lastStderrLine = tail.trim().split('\n').at(-1)?.trim();
  let reason: string;
  if (runcMessage !== undefined) reason = runcMessage;
  else if (signal !== null) reason = `runc was killed by ${signal}`;
  else reason = lastStderrLine ? `exited with code ${exitCode}: ${lastStderrLine}` : `exited with code ${exitCode}`;
  const details: RuncErrorDetails = { argv, exitCode, signal, stderr: tail, ...(runcMessage === undefined ? {} : { runcMessage }), ...extra };
  return new RuncError(classifyRuncMessage(runcMessage ?? lastStderrLine), `${what}: ${reason}`, details, cause === undefined ? {} : { cause });
}
