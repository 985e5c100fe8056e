import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import type { Process, SpecProcess } from '../oci/index.js';
import { applySpecOpts, type SpecOpt, withAdditionalGids, withUser } from '../runtime/index.js';
import { logger } from '../util/index.js';
import { readContainerConfig } from './container-config.js';
import { liveTask, notAllowed } from './container-ops.js';
import type { ExecOptions, ExecResult, ExecStream, ExecStreamOptions } from './engine-types.js';
import { type Lifecycle, toSignal } from './lifecycle.js';
import { replaceOrAppendEnv } from './run-config.js';

const log = logger('engine:exec');

// How long output may go on after the exec's exit (a child it left holding the pipe) before it is cut.
const DRAIN_MS = 2000;

function validate(cmd: unknown, options: ExecStreamOptions): asserts cmd is string[] {
  if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== 'string' || a.includes('\0'))) {
    throw newError('ERR_INVALID_ARGUMENT', 'cmd must be a non-empty array of strings');
  }
  if (options.workdir !== undefined && (typeof options.workdir !== 'string' || !options.workdir.startsWith('/')))
    throw newError('ERR_INVALID_ARGUMENT', 'options.workdir must be an absolute path');
  if (options.env !== undefined && (!Array.isArray(options.env) || options.env.some((e) => typeof e !== 'string')))
    throw newError('ERR_INVALID_ARGUMENT', 'options.env must be an array of strings');
  if (options.user !== undefined && (typeof options.user !== 'string' || options.user === ''))
    throw newError('ERR_INVALID_ARGUMENT', 'options.user must be a non-empty string');
}

/** Resolves once `stream` ended or closed (at once without one). */
function ended(stream: Readable | undefined): Promise<void> {
  if (stream === undefined || stream.destroyed || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', (err) => {
      log('exec output: %s', err.message);
      resolve();
    });
  });
}

/** The process of an exec: the container's, with the exec's argv, env, workdir, user and terminal. */
async function execProcess(base: SpecProcess, cmd: string[], options: ExecStreamOptions, pid: number, signal?: AbortSignal): Promise<SpecProcess> {
  const proc: SpecProcess = {
    ...base,
    args: cmd,
    env: replaceOrAppendEnv(base.env ?? [], options.env ?? []),
    cwd: options.workdir ?? base.cwd,
    terminal: options.tty === true,
  };
  if (options.user === undefined) return proc;
  const asUser: SpecOpt = async (ctx, spec) => {
    await withUser(options.user!)(ctx, spec);
    await withAdditionalGids(String(spec.process!.user.uid))(ctx, spec);
  };
  // The container's root as its init sees it: users are looked up in the image's /etc/passwd.
  const spec = await applySpecOpts({ ociVersion: '1.0.2', process: proc }, [asUser], {
    rootfs: `/proc/${pid}/root`,
    clampRlimits: false,
    ...(signal ? { signal } : {}),
  });
  return spec.process!;
}

/**
 * docker exec with the streams left to the caller: starts `cmd` in the running container (`exec_start`); see
 * {@link ExecStream}. On abort it is SIGKILLed. @internal
 */
export async function execStream(life: Lifecycle, reference: string, cmd: string[], options: ExecStreamOptions = {}): Promise<ExecStream> {
  validate(cmd, options);
  const { signal } = options;
  const { record, task } = await liveTask(life, reference, signal);
  if (task === undefined) throw notAllowed(record, 'is not running');
  if (record.state.status === 'paused') throw notAllowed(record, 'is paused: unpause it before exec');
  const saved = await readContainerConfig(life.store.containerDir(record.id), record.id);
  const proc = await execProcess(saved.spec.process ?? { args: [], cwd: '/', user: { uid: 0, gid: 0 } }, cmd, options, record.state.pid, signal);
  const execId = randomBytes(8).toString('hex');
  const tty = options.tty === true;
  const exec: Process = await task.exec(execId, proc, {
    stdio: { terminal: tty, stdin: options.stdin === true, stdout: 'pipe', ...(tty ? {} : { stderr: 'pipe' }) },
    signal,
  });
  const onAbort = (): void => void exec.kill('SIGKILL').catch(() => undefined);
  try {
    await exec.start({ signal });
  } catch (err) {
    await exec.delete().catch((e: Error) => log('delete of exec %s: %s', execId, e.message));
    throw err;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  await life.containerEvent(record, 'exec_start', { execID: execId, execCommand: cmd.join(' ') });
  let done: Promise<{ exitCode: number }> | undefined;
  const finish = async (): Promise<{ exitCode: number }> => {
    try {
      const { code } = await exec.wait();
      const cut = setTimeout(() => {
        exec.stdout?.destroy();
        exec.stderr?.destroy();
      }, DRAIN_MS);
      await Promise.all([ended(exec.stdout), ended(exec.stderr)]);
      clearTimeout(cut);
      await life.containerEvent(record, 'exec_die', { execID: execId, exitCode: String(code) });
      return { exitCode: code };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await exec.delete().catch((e: Error) => log('delete of exec %s: %s', execId, e.message));
    }
  };
  return {
    execId,
    get stdin() {
      return exec.stdin;
    },
    stdout: exec.stdout,
    stderr: exec.stderr,
    wait: () => (done ??= finish()),
    kill: (sig: string | number = 'SIGTERM') => exec.kill(toSignal(sig)),
  };
}

function collect(stream: Readable | undefined): Promise<string> {
  if (stream === undefined) return Promise.resolve('');
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return ended(stream).then(() => Buffer.concat(chunks).toString('utf8'));
}

/**
 * docker exec: runs `cmd` in the running container and resolves with its exit code and output (stdout and stderr
 * apart, merged on stdout with `tty`). On abort the process is killed and the call rejects with `signal.reason`.
 * @internal
 */
export async function execInContainer(life: Lifecycle, reference: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { stdin, ...rest } = options;
  const running = await execStream(life, reference, cmd, { ...rest, stdin: stdin !== undefined });
  const stdout = collect(running.stdout);
  const stderr = collect(running.stderr);
  if (stdin !== undefined) running.stdin?.end(typeof stdin === 'string' ? stdin : Buffer.from(stdin));
  const { exitCode } = await running.wait();
  const result = { exitCode, stdout: await stdout, stderr: await stderr };
  options.signal?.throwIfAborted();
  return result;
}
