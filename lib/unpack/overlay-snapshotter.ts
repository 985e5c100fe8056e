import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerkitError, newError } from '../errors/index.js';
import type { Mount } from '../oci/mount.js';
import { fsError } from '../util/fs-error.js';
import { mount, unmount } from '../util/mount.js';
import { SnapshotStore, type SnapshotRecord } from './snapshot-store.js';

/** The kernel copies mount options into one page: the whole option string must fit in it. */
const MAX_OPTIONS = 4095;

/** Options of {@link OverlaySnapshotter.open}. */
export interface OverlaySnapshotterOptions {
  /** Cancels the probe; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Checks that the kernel mounts overlayfs with upper and work dirs inside `dir` (overlay-on-overlay, e.g. inside
 * a container, may be refused): mounts a small overlay under `dir/probe-<pid>` and unmounts it again.
 *
 * @throws ERR_UNSUPPORTED_PLATFORM when the mount fails (the message carries mount's reason); ERR_TOOL_MISSING
 *   without util-linux mount; ERR_IO when the probe dirs cannot be made. Rejects with `signal.reason` on abort.
 */
export async function checkOverlaySupport(dir: string, options: OverlaySnapshotterOptions = {}): Promise<void> {
  const probe = join(dir, `probe-${process.pid}`);
  const [lower, upper, work, merged] = ['l', 'u', 'w', 'm'].map((n) => join(probe, n)) as [string, string, string, string];
  try {
    for (const d of [lower, upper, work, merged]) await mkdir(d, { recursive: true });
    await writeFile(join(lower, 'f'), 'x');
  } catch (err) {
    throw fsError(err, 'create', probe);
  }
  try {
    await mount({ type: 'overlay', source: 'overlay', options: [`workdir=${work}`, `upperdir=${upper}`, `lowerdir=${lower}`] }, merged, options);
    await unmount(merged);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (err instanceof ContainerkitError && err.code === 'ERR_TOOL_FAILED') {
      throw newError('ERR_UNSUPPORTED_PLATFORM', `overlayfs cannot be mounted under ${dir}: ${err.message}`, { cause: err, details: { dir } });
    }
    throw err;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

/**
 * The `overlay` snapshotter: every snapshot owns `<root>/snapshots/<n>/fs` (n a short number, so ~100 layers'
 * paths still fit overlay's one-page option limit where 64-hex names overflow at ~35). A committed snapshot's `fs`
 * is one read-only layer; an active snapshot's `fs` is its overlay upper dir, with `work` beside it.
 *
 * Mounts returned: an active snapshot on a parent is `{type:'overlay', source:'overlay', options:['workdir=…',
 * 'upperdir=…','lowerdir=…']}` (lowerdir top to bottom); one without parent is a read-write bind of its `fs`; a
 * view without parent is a read-only bind of its `fs`, a view of layers a read-only overlay of those lowerdirs with
 * the view's own empty `fs` at the bottom (so every mount names its snapshot). Layers applied into an upper dir
 * must use `whiteoutFormat: 'overlay'`.
 *
 * Create it with {@link OverlaySnapshotter.open}, which checks that overlayfs works under `root`.
 */
export class OverlaySnapshotter extends SnapshotStore {
  readonly name = 'overlay';

  /**
   * Makes `root` and probes overlay support there ({@link checkOverlaySupport}).
   *
   * @throws ERR_INVALID_ARGUMENT for a relative root; ERR_UNSUPPORTED_PLATFORM when overlayfs does not mount here.
   */
  static async open(root: string, options: OverlaySnapshotterOptions = {}): Promise<OverlaySnapshotter> {
    const snapshotter = new OverlaySnapshotter(root);
    try {
      await mkdir(snapshotter.root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError(err, 'create', snapshotter.root);
    }
    await checkOverlaySupport(snapshotter.root, options);
    return snapshotter;
  }

  private workDir(id: number): string {
    return join(this.snapshotDir(id), 'work');
  }

  protected async populate(record: SnapshotRecord, chain: SnapshotRecord[]): Promise<void> {
    if (record.kind !== 'active' || chain.length === 0) return;
    try {
      await mkdir(this.workDir(record.id), { mode: 0o700 });
    } catch (err) {
      throw fsError(err, 'create', this.workDir(record.id));
    }
  }

  protected buildMounts(record: SnapshotRecord, chain: SnapshotRecord[]): Mount[] {
    const own = this.fsDir(record.id);
    if (record.kind === 'view') {
      if (chain.length === 0) return [{ type: 'bind', source: own, options: ['rbind', 'ro'] }];
      // The view's own (empty) directory is the bottom layer: it changes nothing in the merged tree (the root's
      // attributes come from the top layer) but makes the mount name this snapshot, so remove() sees it in use.
      // It also gives a one-layer view the second lowerdir overlayfs needs without an upper dir.
      return [this.overlay([`lowerdir=${[...chain.map((r) => this.fsDir(r.id)), own].join(':')}`, 'ro'])];
    }
    if (chain.length === 0) return [{ type: 'bind', source: own, options: ['rbind', 'rw'] }];
    return [this.overlay([`workdir=${this.workDir(record.id)}`, `upperdir=${own}`, `lowerdir=${chain.map((r) => this.fsDir(r.id)).join(':')}`])];
  }

  private overlay(options: string[]): Mount {
    const length = options.join(',').length;
    if (length > MAX_OPTIONS) {
      throw newError('ERR_FAILED_PRECONDITION', `overlay options of ${length} bytes do not fit one page: too many layers under ${this.root}`, {
        details: { length, root: this.root },
      });
    }
    return { type: 'overlay', source: 'overlay', options };
  }

  protected override async committed(record: SnapshotRecord): Promise<void> {
    // A committed layer is never an upper dir again; its work dir is no longer needed.
    await rm(this.workDir(record.id), { recursive: true, force: true });
  }
}
