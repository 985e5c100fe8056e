import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { newError } from '../errors/index.js';
import { DeleteResponse } from '../gen/containerd/runtime/task/v2/shim.js';
import type { ExitStatus } from '../oci/index.js';
import { logger } from '../util/index.js';
import { timestampToDate } from './convert.js';

const log = logger('shim:binary');

/** How to run the shim binary's subcommands (`start`, `delete`) for one container. */
export interface ShimBinaryCall {
  shimBinary: string;
  namespace: string;
  /** The shims' `-address` (hashed into their socket path; also `TTRPC_ADDRESS`, the events socket). */
  address: string;
  id: string;
  /** The bundle, also the cwd. */
  bundle: string;
  signal?: AbortSignal;
  /** Default 30000 ms. */
  timeoutMs?: number;
}

interface BinaryResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(call: ShimBinaryCall, args: string[], input: Uint8Array | undefined): Promise<BinaryResult> {
  const { shimBinary, bundle, signal, timeoutMs = 30_000 } = call;
  if (signal?.aborted) return Promise.reject(signal.reason);
  log('%s %o (cwd %s)', shimBinary, args, bundle);
  return new Promise((resolve, reject) => {
    // detached: its own session and process group, so the shim daemon (same session as this `start`) is not hit
    // by signals aimed at the engine's group (Ctrl-C in a terminal).
    const child = spawn(shimBinary, args, {
      cwd: bundle,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TTRPC_ADDRESS: call.address },
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input === undefined ? undefined : Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(
        e.code === 'ENOENT'
          ? newError('ERR_TOOL_MISSING', `${shimBinary} is not installed`, { cause: e, details: { argv: [shimBinary, ...args] } })
          : newError('ERR_SHIM_START_FAILED', `${shimBinary} could not be run: ${e.message}`, { cause: e }),
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

function baseArgs(call: ShimBinaryCall): string[] {
  // -publish-binary is ignored by shims since containerd 1.3; it is required by the flag parser of older ones.
  return ['-namespace', call.namespace, '-address', call.address, '-publish-binary', '/bin/true', '-id', call.id];
}

/**
 * Runs `<shim> -namespace … -address … -publish-binary /bin/true -id <id> start` in the bundle with `options` (the
 * runc options Any) on stdin and `TTRPC_ADDRESS` set; resolves with what it printed on stdout.
 * @throws ERR_SHIM_START_FAILED when it exits non-zero (its output in the message); ERR_TOOL_MISSING without it.
 */
export async function runShimStart(call: ShimBinaryCall, options: Uint8Array | undefined): Promise<Buffer> {
  const r = await run(call, [...baseArgs(call), 'start'], options);
  if (r.code !== 0) {
    const text = `${r.stdout.toString('utf8')}${r.stderr}`.trim();
    throw newError(
      'ERR_SHIM_START_FAILED',
      `${call.shimBinary} start for ${call.id} exited with ${r.code ?? 'a signal'}${text ? `: ${text.slice(-500)}` : ''}`,
      {
        details: { exitCode: r.code, output: text.slice(-2000) },
      },
    );
  }
  return r.stdout;
}

/**
 * Runs the shim's `delete` subcommand (`… -id <id> -bundle <bundle> delete`, cwd = bundle): the runc shim runs
 * `runc delete --force` (killing what is left), unmounts the rootfs and prints a DeleteResponse, whose exit code
 * is always a synthetic 137. Resolves with it, or with exit code 255 when the subcommand failed (as containerd does).
 * Rejects only with `signal.reason`.
 */
export async function runShimDelete(call: ShimBinaryCall): Promise<ExitStatus & { pid: number }> {
  let r: BinaryResult;
  try {
    r = await run(call, [...baseArgs(call), '-bundle', call.bundle, 'delete'], undefined);
  } catch (err) {
    if (call.signal?.aborted) throw call.signal.reason;
    log('delete of %s could not run: %s', call.id, (err as Error).message);
    return { pid: 0, code: 255, exitedAt: new Date() };
  }
  if (r.code !== 0) {
    log('delete of %s exited %s: %s', call.id, r.code, r.stderr.trim());
    return { pid: 0, code: 255, exitedAt: new Date() };
  }
  try {
    const m = DeleteResponse.decode(r.stdout);
    return { pid: m.pid, code: m.exitStatus, exitedAt: timestampToDate(m.exitedAt) };
  } catch {
    return { pid: 0, code: 255, exitedAt: new Date() };
  }
}

/**
 * Pids of shim daemons serving container `id` for this namespace and `-address` (what `start` re-execs:
 * `<shim> -namespace <ns> -id <id> -address <address>`), found in /proc. For cleaning up after a start that was cut
 * short before the shim's pid was learnt. Resolves [] when /proc cannot be read.
 */
export async function findShimDaemons(namespace: string, id: string, address: string): Promise<number[]> {
  const pids: number[] = [];
  const names = await readdir('/proc').catch(() => [] as string[]);
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const flag = (key: string): string | undefined => {
      const i = argv.indexOf(key);
      return i === -1 ? undefined : argv[i + 1];
    };
    if (!argv.includes('start') && flag('-namespace') === namespace && flag('-id') === id && flag('-address') === address) pids.push(Number(name));
  }
  return pids;
}
