import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Spec } from '../../../lib/oci/index.js';
import { type ReattachReport, ShimManager, type ShimManagerOptions, shimSocketPath } from '../../../lib/shim/index.js';
import { writeBusyboxBundle } from '../../fixtures/bundle.js';
import { trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const SHIM = 'containerd-shim-runc-v2';

/**
 * A ShimManager root for one test: a temp state dir, a unique namespace, busybox bundles under `<dir>/bundles/<id>`,
 * and a teardown that removes everything even when the test failed (shims and their containers, runc state, shim
 * sockets, bundles), then reports anything still left.
 */
export class ManagerFixture {
  readonly namespace = `ck-test-${randomBytes(4).toString('hex')}`;
  readonly ids = new Set<string>();
  readonly managers: ShimManager[] = [];
  /** What the last `manager()` found when it opened the root. */
  lastReport: ReattachReport | undefined;
  #untrack: (() => void) | undefined;

  private constructor(readonly dir: string) {}

  static async create(): Promise<ManagerFixture> {
    const fixture = new ManagerFixture(await makeTempDir('shimmgr'));
    await mkdir(join(fixture.dir, 'bundles'));
    fixture.#untrack = trackCleanup(() => fixture.cleanupSync());
    return fixture;
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  get eventsSocket(): string {
    return join(this.stateDir, 'events.sock');
  }

  options(extra: Partial<ShimManagerOptions> = {}): ShimManagerOptions {
    return { stateDir: this.stateDir, namespace: this.namespace, callTimeoutMs: 20_000, ...extra };
  }

  /** A new manager on the fixture's root, opened. */
  async manager(extra: Partial<ShimManagerOptions> = {}): Promise<ShimManager> {
    const manager = await ShimManager.open(this.options(extra));
    this.managers.push(manager);
    this.lastReport = manager.reattachReport;
    return manager;
  }

  /** A busybox bundle `<dir>/bundles/<id>` with an absolute root.path, running `args`; `patch` edits config.json. */
  async bundle(id: string, args: string[], patch?: (spec: Spec) => void): Promise<string> {
    this.ids.add(id);
    const bundle = join(this.dir, 'bundles', id);
    await writeBusyboxBundle(bundle, { args });
    const configPath = join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(configPath, 'utf8')) as Spec;
    spec.root = { path: join(bundle, 'rootfs'), readonly: false };
    patch?.(spec);
    await writeFile(configPath, JSON.stringify(spec));
    return bundle;
  }

  /** The spec's process of a bundle (for execs). */
  async process(id: string): Promise<NonNullable<Spec['process']>> {
    const spec = JSON.parse(await readFile(join(this.dir, 'bundles', id, 'config.json'), 'utf8')) as Spec;
    return spec.process!;
  }

  /** What is left for this root: shim processes (and their children), shim sockets, runc state, records, FIFOs. */
  leftovers(): string[] {
    const out: string[] = [];
    for (const pid of processTree(findShimPids(this.eventsSocket))) if (isAlive(pid)) out.push(`process ${pid}`);
    for (const pid of this.loggerPids()) if (isAlive(pid)) out.push(`logger ${pid}`);
    for (const id of this.ids) {
      const socket = shimSocketPath(this.eventsSocket, this.namespace, id);
      if (existsSync(socket)) out.push(`socket ${socket}`);
      if (existsSync(join(this.dir, 'bundles', id, 'log'))) out.push(`log FIFO of ${id}`);
    }
    const runcNs = join(this.stateDir, 'runc', this.namespace);
    if (existsSync(runcNs)) out.push(`runc state ${runcNs}: ${readdirSync(runcNs).join(',')}`);
    const containers = join(this.stateDir, 'containers');
    if (existsSync(containers)) for (const name of readdirSync(containers)) out.push(`record ${name}`);
    const mounts = existsSync('/proc/self/mountinfo') ? spawnSync('grep', ['-c', this.dir, '/proc/self/mountinfo'], { encoding: 'utf8' }).stdout.trim() : '0';
    if (mounts !== '0' && mounts !== '') out.push(`${mounts} mounts under ${this.dir}`);
    return out;
  }

  /** Pids of loggers run from this root's `bin/`. */
  loggerPids(): number[] {
    const prefix = join(this.stateDir, 'bin', 'ck-shim-logger');
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (readFileSync(`/proc/${name}/cmdline`, 'utf8').startsWith(prefix)) pids.push(Number(name));
      } catch {
        // gone
      }
    }
    return pids;
  }

  /** Kills and deletes whatever this root still runs (the failed-test path, and the exit safety net). */
  cleanupSync(): void {
    killAll(processTree(findShimPids(this.eventsSocket)));
    killAll(this.loggerPids());
    for (const id of this.ids) {
      const bundle = join(this.dir, 'bundles', id);
      if (existsSync(join(bundle, 'config.json'))) {
        spawnSync(SHIM, ['-namespace', this.namespace, '-address', this.eventsSocket, '-publish-binary', '/bin/true', '-id', id, '-bundle', bundle, 'delete'], {
          cwd: bundle,
          stdio: 'ignore',
          timeout: 10_000,
        });
      }
      rmSync(shimSocketPath(this.eventsSocket, this.namespace, id), { force: true });
    }
  }

  /** Closes managers, kills leftovers, removes the temp dir. Returns what was left before the forced cleanup. */
  async cleanup(): Promise<string[]> {
    for (const m of this.managers) await m.close().catch(() => undefined);
    const left = this.leftovers();
    this.cleanupSync();
    await removeTempDir(this.dir);
    this.#untrack?.();
    return left;
  }
}

/** Reads a Readable to its end as text. */
export function readAll(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (stream === undefined) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
