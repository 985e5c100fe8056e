import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { type ContainerdClient, type ContainerdTask, resolveImage } from '../../containerd/index.js';
import { ContainerkitError, isAbortError } from '../../errors/index.js';
import { normalizeReference } from '../../oci/index.js';
import { generateSpec, withHostname, withImageConfig } from '../../runtime/index.js';
import { redact } from '../../util/debug.js';
import type { CliContext } from '../command.js';
import { SignalProxy, signalExitCode } from './containerd-signals.js';

/** Options of {@link runInContainerd}. */
export interface ContainerdRunOptions {
  /** Delete the container and its snapshot after the exit, whatever ended the run (`--rm`). */
  remove: boolean;
  /** Pass `ctx.stdin` through to the container's stdin (ended when it ends). */
  stdin: boolean;
  /** Default: 12 random hex digits. */
  id?: string;
  platform?: string;
}

// After the exit, how long the shim may take to flush and close the stdio FIFOs.
const DRAIN_TIMEOUT_MS = 5000;

// docker's exit codes for a command that cannot be run (translateContainerdStartErr).
const EXIT_OF_CODE: Partial<Record<string, number>> = { ERR_CONTAINER_COMMAND_NOT_FOUND: 127, ERR_CONTAINER_COMMAND_NOT_EXECUTABLE: 126 };

async function drained(stream: Readable | undefined): Promise<void> {
  if (stream === undefined || stream.readableEnded || stream.destroyed) return;
  // unref: a stream that closes in time must not keep the CLI alive for the rest of the timeout
  await Promise.race([once(stream, 'close'), new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
}

/**
 * `containerd run`: the image's config as the spec (CMD replaced by `command` when given), a container with its
 * snapshot, a task with FIFO stdio streamed to the CLI's stdout/stderr (and `ctx.stdin` to its stdin with `stdin`);
 * returns the container's exit code. Signals: see {@link SignalProxy} (forwarded; a second SIGINT/SIGTERM kills the
 * container and the CLI exits 128 + that signal, as does a signal before the container started). A command that
 * cannot be run exits 127 (not found) or 126 (not executable), as docker. The task is deleted on every path, the
 * container and its snapshot with `remove`.
 */
export async function runInContainerd(
  ctx: CliContext,
  client: ContainerdClient,
  ref: string,
  command: string[],
  options: ContainerdRunOptions,
): Promise<number> {
  const id = options.id ?? randomBytes(6).toString('hex');
  using proxy = new SignalProxy(ctx.signal, ctx.stderr, id);
  try {
    const code = await createAndRun(ctx, client, ref, command, id, options, proxy);
    if (proxy.cancelled) throw ctx.signal.reason;
    return code;
  } catch (err) {
    // A signal before the start: the setup stopped (and what it made is gone); exit as if that signal ended the CLI.
    if (proxy.endedBy !== undefined && !proxy.cancelled && isAbortError(err)) return signalExitCode(proxy.endedBy);
    const exit = err instanceof ContainerkitError ? EXIT_OF_CODE[err.code] : undefined;
    if (exit === undefined) throw err;
    ctx.stderr.write(`containerkit: ${redact((err as ContainerkitError).message)} (${(err as ContainerkitError).code})\n`);
    return exit;
  }
}

async function createAndRun(
  ctx: CliContext,
  client: ContainerdClient,
  ref: string,
  command: string[],
  id: string,
  options: ContainerdRunOptions,
  proxy: SignalProxy,
): Promise<number> {
  const signal = proxy.signal;
  const name = normalizeReference(ref).toString();
  const { config } = await resolveImage(client, name, { signal, ...(options.platform ? { platform: options.platform } : {}) });
  const spec = await generateSpec([withImageConfig(config, command.length > 0 ? { args: command } : {}), withHostname(id)], {
    id,
    namespace: client.namespace,
  });
  const container = await client.createContainer(id, { spec, image: name, signal });
  try {
    // No signal from here on: an aborted create or start could leave a task behind; the cleanup below needs none.
    const task = await container.newTask({ stdio: { stdin: options.stdin } });
    try {
      return await runTask(ctx, task, options, proxy);
    } finally {
      proxy.exited();
      await task.delete({ force: true });
    }
  } finally {
    if (options.remove) await container.delete();
  }
}

async function runTask(ctx: CliContext, task: ContainerdTask, options: ContainerdRunOptions, proxy: SignalProxy): Promise<number> {
  task.stdout?.pipe(ctx.stdout, { end: false });
  task.stderr?.pipe(ctx.stderr, { end: false });
  const exited = task.wait();
  exited.catch(() => undefined); // awaited below, unless the start fails first
  let stdin: Writable | undefined;
  try {
    proxy.signal.throwIfAborted();
    proxy.starting(task);
    // The start opens the task's stdin; ending it (the CLI's stdin ended) closes the container's stdin.
    await task.start();
    proxy.started();
    if (options.stdin && task.stdin !== undefined) {
      stdin = task.stdin;
      ctx.stdin.pipe(stdin);
    }
    const { code } = await exited;
    await Promise.all([drained(task.stdout), drained(task.stderr)]);
    return proxy.endedBy === undefined ? code : signalExitCode(proxy.endedBy);
  } finally {
    if (stdin !== undefined) {
      ctx.stdin.unpipe(stdin);
      // Stop reading the CLI's stdin (a terminal or a pipe that stays open must not keep the process alive).
      (ctx.stdin as { pause?: () => void }).pause?.();
    }
  }
}
