import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Spec, TaskEvent } from '../../../lib/oci/index.js';
import { createEventsService, ShimTaskClient, type TtrpcCallContext, TtrpcServer, type TtrpcServerOptions } from '../../../lib/shim/index.js';
import { createFifo, openFifo } from '../../../lib/util/fifo.js';
import { writeBusyboxBundle } from '../../fixtures/bundle.js';
import { trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

/**
 * What the ttrpc integration tests need around a real `containerd-shim-runc-v2` and no containerd: a temp base dir
 * with an events socket served by our TtrpcServer, busybox bundles named by their id, the shim started the way the
 * shim spike's recipe does it, FIFO stdio, and a cleanup that leaves nothing behind even when a test failed
 * (shim and container processes, runc state, the shim's socket under /run/containerd/s, the bundle).
 */

const SHIM = 'containerd-shim-runc-v2';
const RUNC_DEFAULT_ROOT = '/run/containerd/runc';

/** A received event and the namespace metadata of its Forward call. */
export interface ReceivedEvent {
  event: TaskEvent;
  metadataNamespace: string | undefined;
}

/** One started shim with its container's bundle and stdio. */
export interface StartedShim {
  id: string;
  bundle: string;
  address: string;
  task: ShimTaskClient;
  /** Everything the shim wrote to its log FIFO so far. */
  log(): string;
  /** FIFO paths for Create and what has been read from them. */
  stdoutPath: string;
  stderrPath: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the stdout/stderr writers have all closed (EOF on both). */
  stdioDone: Promise<void>;
}

export class ShimHarness {
  readonly namespace = `ck-test-${randomBytes(4).toString('hex')}`;
  readonly events: ReceivedEvent[] = [];
  readonly shims: StartedShim[] = [];
  readonly #sockets: Socket[] = [];
  #untrack: (() => void) | undefined;
  #eventWaiters: Array<() => void> = [];

  private constructor(
    readonly base: string,
    readonly eventsSocket: string,
    readonly server: TtrpcServer,
  ) {}

  /** `serverOptions` go to the events server (its limits). */
  static async create(serverOptions: TtrpcServerOptions = {}): Promise<ShimHarness> {
    const base = await makeTempDir('shim');
    const eventsSocket = join(base, 'events.sock');
    const server = new TtrpcServer(serverOptions);
    const harness = new ShimHarness(base, eventsSocket, server);
    server.register(
      createEventsService((event: TaskEvent, context: TtrpcCallContext) => {
        harness.events.push({ event, metadataNamespace: context.namespace });
        for (const w of harness.#eventWaiters.splice(0)) w();
      }),
    );
    await server.listen(eventsSocket);
    harness.#untrack = trackCleanup(() => harness.cleanupSync());
    return harness;
  }

  /** Waits until an event matching `predicate` has arrived (or `timeoutMs` passes). */
  async waitForEvent(predicate: (e: TaskEvent) => boolean, timeoutMs = 10_000): Promise<TaskEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((r) => predicate(r.event));
      if (found) return found.event;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${this.events.map((r) => r.event.topic).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#eventWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Builds a busybox bundle `<base>/<id>` (basename = id, absolute root.path) running `args`. */
  async writeBundle(id: string, args: string[]): Promise<string> {
    const bundle = join(this.base, id);
    await writeBusyboxBundle(bundle, { args });
    const configPath = join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as Spec;
    spec.root = { path: join(bundle, 'rootfs'), readonly: false };
    await writeFile(configPath, JSON.stringify(spec));
    return bundle;
  }

  /**
   * Prepares the bundle (log FIFO opened before `start`, stdio FIFOs opened for reading), runs
   * `containerd-shim-runc-v2 … start` like the recipe and connects to the address it prints.
   */
  async startShim(id: string, args: string[]): Promise<StartedShim> {
    const bundle = await this.writeBundle(id, args);
    const logPath = join(bundle, 'log');
    await createFifo(logPath, { mode: 0o700 });
    let logText = '';
    const logSocket = await openFifo(logPath, 'rw');
    this.#sockets.push(logSocket);
    logSocket.on('data', (chunk: Buffer) => (logText += chunk.toString()));

    const fifoDir = join(this.base, 'fifo');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(fifoDir, { recursive: true });
    const stdoutPath = join(fifoDir, `${id}-stdout`);
    const stderrPath = join(fifoDir, `${id}-stderr`);
    const texts = { out: '', err: '' };
    const ended: Array<Promise<void>> = [];
    for (const [path, key] of [
      [stdoutPath, 'out'],
      [stderrPath, 'err'],
    ] as const) {
      await createFifo(path);
      const socket = await openFifo(path, 'r');
      this.#sockets.push(socket);
      socket.on('data', (chunk: Buffer) => (texts[key] += chunk.toString()));
      ended.push(new Promise((resolve) => socket.once('end', () => resolve())));
    }

    const address = await new Promise<string>((resolve, reject) => {
      // detached: a new process group (Node can only do it with setsid); stdin /dev/null.
      const child = spawn(SHIM, ['-namespace', this.namespace, '-address', this.eventsSocket, '-publish-binary', '/bin/true', '-id', id, 'start'], {
        cwd: bundle,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TTRPC_ADDRESS: this.eventsSocket },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`shim start exited ${code}: ${out}${err}`))));
    });
    if (!address.startsWith('unix://')) throw new Error(`unexpected shim address ${JSON.stringify(address)}`);
    const task = await ShimTaskClient.open(address, { namespace: this.namespace, callTimeoutMs: 10_000 });
    const shim: StartedShim = {
      id,
      bundle,
      address,
      task,
      log: () => logText,
      stdoutPath,
      stderrPath,
      stdout: () => texts.out,
      stderr: () => texts.err,
      stdioDone: Promise.all(ended).then(() => undefined),
    };
    this.shims.push(shim);
    return shim;
  }

  /** Waits (up to `timeoutMs`) until no shim started by this harness is alive. */
  async waitForNoShims(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (findShimPids(this.eventsSocket).some(isAlive)) {
      if (Date.now() > deadline) throw new Error('shim still alive');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** What is left behind for this harness's namespace: processes, shim sockets, runc state. Empty when clean. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const pid of findShimPids(this.eventsSocket)) if (isAlive(pid)) out.push(`shim pid ${pid}`);
    for (const shim of this.shims) {
      const socketPath = shim.address.slice('unix://'.length);
      if (existsSync(socketPath)) out.push(`socket ${socketPath}`);
      if (existsSync(join(RUNC_DEFAULT_ROOT, this.namespace, shim.id))) out.push(`runc state ${shim.id}`);
    }
    if (existsSync(join(RUNC_DEFAULT_ROOT, this.namespace))) {
      for (const name of readdirSync(join(RUNC_DEFAULT_ROOT, this.namespace))) out.push(`runc state dir ${name}`);
    }
    return out;
  }

  /**
   * Synchronous teardown (also the exit safety net's): SIGKILL live shims, run the shim's `delete` subcommand per
   * bundle (runc delete --force of a leftover container), remove shim sockets and runc's per-namespace dir.
   */
  cleanupSync(): void {
    for (const socket of this.#sockets) socket.destroy();
    killAll(findShimPids(this.eventsSocket));
    for (const shim of this.shims) {
      if (existsSync(join(shim.bundle, 'config.json'))) {
        spawnSync(
          SHIM,
          ['-namespace', this.namespace, '-address', this.eventsSocket, '-publish-binary', '/bin/true', '-id', shim.id, '-bundle', shim.bundle, 'delete'],
          {
            cwd: shim.bundle,
            stdio: 'ignore',
            timeout: 10_000,
          },
        );
      }
      rmSync(shim.address.slice('unix://'.length), { force: true });
      rmSync(join(RUNC_DEFAULT_ROOT, this.namespace, shim.id), { recursive: true, force: true });
    }
    try {
      rmdirSync(join(RUNC_DEFAULT_ROOT, this.namespace));
    } catch {
      // absent, or not empty (then leftovers() reports it)
    }
  }

  /** Full teardown: clients, sockets, shims, runc state, the events server and the base dir. */
  async cleanup(): Promise<void> {
    for (const shim of this.shims) await shim.task.close().catch(() => undefined);
    this.cleanupSync();
    await this.server.close();
    await removeTempDir(this.base);
    this.#untrack?.();
  }
}

/** The shim's address file as written into the bundle (for assertions). */
export function addressFile(bundle: string): string {
  return readFileSync(join(bundle, 'address'), 'utf8');
}
