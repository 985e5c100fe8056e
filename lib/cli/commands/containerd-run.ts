import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { resolveImage, type ContainerdClient } from '../../containerd/index.js';
import { normalizeReference } from '../../oci/index.js';
import { generateSpec, withHostname, withImageConfig } from '../../runtime/index.js';
import type { CliContext } from '../command.js';

/** Options of {@link runInContainerd}. */
export interface ContainerdRunOptions {
  /** Delete the container and its snapshot after the exit (`--rm`). */
  remove: boolean;
  /** Default: 12 random hex digits. */
  id?: string;
  platform?: string;
}

// After the exit, how long the shim may take to flush and close the stdio FIFOs.
const DRAIN_TIMEOUT_MS = 5000;

async function drained(stream: Socket): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return;
  // unref: a stream that closes in time must not keep the CLI alive for the rest of the timeout
  await Promise.race([once(stream, 'close'), new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
}

/**
 * `containerd run`: the image's config as the spec (CMD replaced by `command` when given), a container with its
 * snapshot, a task with FIFO stdio streamed to the CLI's stdout/stderr; returns the container's exit code. SIGINT
 * or SIGTERM to the CLI sends SIGTERM to the container. The task is always deleted; the container with `remove`.
 */
export async function runInContainerd(ctx: CliContext, client: ContainerdClient, ref: string, command: string[], options: ContainerdRunOptions): Promise<number> {
  const id = options.id ?? randomBytes(6).toString('hex');
  const name = normalizeReference(ref).toString();
  const { config } = await resolveImage(client, name, { signal: ctx.signal, ...(options.platform ? { platform: options.platform } : {}) });
  const spec = await generateSpec([withImageConfig(config, command.length > 0 ? { args: command } : {}), withHostname(id)], { id, namespace: client.namespace });
  const container = await client.createContainer(id, { spec, image: name, signal: ctx.signal });
  try {
    const task = await container.newTask();
    try {
      const io = task.io!;
      io.stdout.pipe(ctx.stdout, { end: false });
      io.stderr.pipe(ctx.stderr, { end: false });
      const exited = task.wait();
      await task.start();
      const stop = (): void => void task.kill(15).catch(() => undefined);
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        const { exitStatus } = await exited;
        await Promise.all([drained(io.stdout), drained(io.stderr)]);
        return exitStatus;
      } finally {
        ctx.signal.removeEventListener('abort', stop);
      }
    } finally {
      await task.delete().catch(async () => {
        await task.kill(9).catch(() => undefined);
        await task.wait();
        await task.delete();
      });
    }
  } finally {
    if (options.remove) await container.delete();
  }
}
