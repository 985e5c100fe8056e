import type { Mount } from '../oci/mount.js';

/** The state of a snapshot: `active` (writable, from `prepare`), `view` (read-only, from `view`) or `committed`. */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** What a snapshotter knows about one snapshot. */
export interface SnapshotInfo {
  /** The key (`active`/`view`) or the committed name (a chain ID for unpacked layers). */
  name: string;
  kind: SnapshotKind;
  /** The committed snapshot this one is based on, when any. */
  parent?: string;
  /** Free-form labels given at prepare/view/commit. */
  labels: Record<string, string>;
  /** ISO-8601 creation time. */
  created: string;
  /** ISO-8601 time of the last change (commit). */
  updated: string;
}

/** Disk used by a snapshot's own data (not its parents'). */
export interface SnapshotUsage {
  /** Bytes of regular-file data (hardlinked files counted once). */
  size: number;
  /** Number of inodes (files, dirs, links…). */
  inodes: number;
}

/** Options of {@link Snapshotter.prepare}, {@link Snapshotter.view} and {@link Snapshotter.commit}. */
export interface SnapshotOptions {
  /** Labels stored with the snapshot. Default none. */
  labels?: Record<string, string>;
  /** Cancels the call; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of calls that only take a signal. */
export interface SnapshotCallOptions {
  /** Cancels the call; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Root filesystems as chains of snapshots, modelled on containerd's snapshotter: a committed snapshot is
 * immutable and named (by chain ID when it holds an image layer); `prepare` makes a writable `active` snapshot on
 * a committed parent, `view` a read-only one; both return the mounts that assemble it, which the caller performs
 * (a snapshotter never mounts anything itself). `commit` turns an active snapshot into a committed one.
 *
 * Errors every implementation throws: ERR_INVALID_ARGUMENT (bad key or option), ERR_NOT_FOUND (unknown key or
 * parent), ERR_ALREADY_EXISTS (key or name taken), ERR_FAILED_PRECONDITION (wrong kind: a parent that is not
 * committed, commit of a non-active snapshot, remove of a snapshot with children), ERR_SNAPSHOT_MOUNTED (remove of a
 * snapshot whose mounts are still mounted), ERR_IO, ERR_LOCK_TIMEOUT.
 *
 * Every mount an implementation returns names the snapshot's own directory (as a bind source or an overlay
 * layer), so `remove` can tell from `/proc/self/mountinfo` whether the snapshot is still in use.
 */
export interface Snapshotter {
  /** Implementation name: `overlay` or `native`. */
  readonly name: string;
  /** Creates an active (writable) snapshot `key` on the committed `parent` (none: empty); returns its mounts. */
  prepare(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** Creates a read-only snapshot `key` of the committed `parent`; returns its mounts. */
  view(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /** The mounts of an active or view snapshot (again). */
  mounts(key: string, options?: SnapshotCallOptions): Promise<Mount[]>;
  /** Commits the active snapshot `key` as the immutable `name`; `key` ceases to exist. */
  commit(name: string, key: string, options?: SnapshotOptions): Promise<void>;
  /**
   * Removes a snapshot and its data; a committed one must have no children. Refused with ERR_SNAPSHOT_MOUNTED while
   * any of its mounts is mounted in this mount namespace: unmount them first.
   */
  remove(key: string, options?: SnapshotCallOptions): Promise<void>;
  /** What is known about `key`. */
  stat(key: string, options?: SnapshotCallOptions): Promise<SnapshotInfo>;
  /** Disk used by `key`'s own data. */
  usage(key: string, options?: SnapshotCallOptions): Promise<SnapshotUsage>;
  /** Every snapshot, committed ones first, then by name. */
  walk(options?: SnapshotCallOptions): Promise<SnapshotInfo[]>;
}
