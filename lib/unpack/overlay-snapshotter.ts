import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerkitError, newError } from '../errors/index.js';
import type { Mount } from '../oci/mount.js';
import { readJsonFile, writeJsonAtomic } from '../util/atomic-file.js';
import { logger } from '../util/debug.js';
import { fsError } from '../util/fs-error.js';
import { mount, unmount } from '../util/mount.js';
import { readBootId } from '../util/proc.js';
import { type SnapshotRecord, SnapshotStore } from './snapshot-store.js';

const log = logger('unpack:overlay');

/** The kernel copies mount options into one page: the whole option string must fit in it. */
const MAX_OPTIONS = 4095;

/**
 * `<root>/overlay-supported.json`: written after a successful probe. What it records is true until the next boot
 * (a new kernel or module) or until another filesystem sits at the root, so both are in it.
 */
const SUPPORT_MARKER = 'overlay-supported.json';

interface SupportMarker {
  bootId: string;
  /** st_dev of the root, decimal. */
  device: string;
}

/** The marker as it would be written now, or undefined when the boot id cannot be read (then always probe). */
async function currentMarker(root: string, signal: AbortSignal | undefined): Promise<SupportMarker | undefined> {
  const bootId = await readBootId({ signal });
  if (bootId === undefined) return undefined;
  try {
    return { bootId, device: String((await stat(root, { bigint: true })).dev) };
  } catch (err) {
    throw fsError(err, 'stat', root);
  }
}

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
 * Create it with {@link OverlaySnapshotter.open}, which checks that overlayfs works under `root` (once per boot).
 */
export class OverlaySnapshotter extends SnapshotStore {
  readonly name = 'overlay';

  private constructor(root: string) {
    super(root);
  }

  /**
   * Makes `root` and probes overlay support there ({@link checkOverlaySupport}) once: a successful probe is
   * recorded in `<root>/overlay-supported.json` with the kernel's boot id and the root's device, and later opens
   * on the same boot and filesystem skip the probe (a test mount costs tens to hundreds of ms).
   *
   * @throws ERR_INVALID_ARGUMENT for a relative root; ERR_UNSUPPORTED_PLATFORM when overlayfs does not mount here;
   *   ERR_IO when the root cannot be made or the record written.
   */
  static async open(root: string, options: OverlaySnapshotterOptions = {}): Promise<OverlaySnapshotter> {
    const snapshotter = new OverlaySnapshotter(root);
    const { signal } = options;
    try {
      await mkdir(snapshotter.root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError(err, 'create', snapshotter.root);
    }
    const markerPath = join(snapshotter.root, SUPPORT_MARKER);
    const now = await currentMarker(snapshotter.root, signal);
    // An unreadable record is only a lost shortcut: probe again and rewrite it.
    const recorded = await readJsonFile<Partial<SupportMarker>>(markerPath, { signal }).catch((err: unknown) => {
      if (signal?.aborted) throw signal.reason;
      log('ignoring %s: %s', markerPath, (err as Error).message);
      return undefined;
    });
    if (now !== undefined && recorded?.bootId === now.bootId && recorded.device === now.device) {
      log('overlay support under %s recorded for this boot', snapshotter.root);
      return snapshotter;
    }
    await checkOverlaySupport(snapshotter.root, options);
    // No fsync: a record lost in a crash only costs one more probe.
    if (now !== undefined) await writeJsonAtomic(markerPath, now, { space: 0, fsync: false });
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
