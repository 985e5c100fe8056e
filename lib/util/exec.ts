import { spawn } from 'node:child_process';
import { newError } from '../errors/index.js';
import { logger } from './debug.js';

const log = logger('util:exec');

/** Options for {@link runTool}. */
export interface RunToolOptions {
  /** Cancels the run: the child gets SIGTERM, then SIGKILL after `killGraceMs`; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Bytes written to the child's stdin (stdin is closed either way). */
  input?: string | Buffer;
  /** Environment for the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Milliseconds between SIGTERM and SIGKILL on abort. Default 2000. */
  killGraceMs?: number;
  /** Exit codes that count as success. Default `[0]`. */
  okExitCodes?: number[];
}

/** What a finished Linux tool produced. */
export interface RunToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const STDERR_TAIL = 4096;

/**
 * Runs one of the Linux programs containerkit relies on for what Node lacks (mkfifo, setfattr, mount…), with no
 * shell in between. Throws `ERR_TOOL_MISSING` when the program is not installed and `ERR_TOOL_FAILED` (with argv,
 * exit code and a stderr tail in `details`) when it fails.
 */
export function runTool(file: string, args: readonly string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const { signal, input, env, cwd, killGraceMs = 2000, okExitCodes = [0] } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const argv = [file, ...args];
  log('run %o', argv);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      killTimer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {
      // The child may exit without reading its input; its exit status tells what happened.
    });
    child.stdin.end(input);
    child.on('error', (err: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      if (err.code === 'ENOENT') {
        reject(newError('ERR_TOOL_MISSING', `${file} is not installed (run scripts/host-deps.sh)`, { cause: err, details: { argv } }));
      } else {
        reject(newError('ERR_TOOL_FAILED', `${file} could not be started: ${err.message}`, { cause: err, details: { argv } }));
      }
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      const exitCode = code ?? 128;
      if (sig === null && okExitCodes.includes(exitCode)) {
        resolve({ stdout: out, stderr: err, exitCode });
        return;
      }
      const tail = err.length > STDERR_TAIL ? err.slice(-STDERR_TAIL) : err;
      const why = sig === null ? `exited with code ${exitCode}` : `was killed by ${sig}`;
      const firstLine = tail.trim().split('\n').pop() ?? '';
      reject(
        newError('ERR_TOOL_FAILED', `${argv.join(' ')} ${why}${firstLine ? `: ${firstLine}` : ''}`, {
          details: { argv, exitCode: code, signal: sig, stderr: tail },
        }),
      );
    });
  });
}
