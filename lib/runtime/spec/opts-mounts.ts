import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { newError } from '../../errors/index.js';
import type { SpecMount } from '../../oci/runtime-spec.js';
import { checkAbsolute, checkInteger, checkString, type SpecOpt, setProcess } from './spec-opt.js';

// Options on the filesystem: the root, extra mounts, /dev/shm, and the init binary.

/** Options of {@link bindMount}. */
export interface BindMountOptions {
  /** Mount read-only. Default `false`. */
  readonly?: boolean;
  /** Bind the submounts too (`rbind`). Default `true`, like Docker's `-v`. */
  recursive?: boolean;
  /** Mount propagation: `private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave`. Default: runc's (rprivate). */
  propagation?: 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';
}

/**
 * A bind mount of the host path `source` at `destination` in the container.
 *
 * @throws ERR_INVALID_ARGUMENT when either path is not absolute.
 */
export function bindMount(source: string, destination: string, options: BindMountOptions = {}): SpecMount {
  checkAbsolute(source, 'bindMount: source');
  checkAbsolute(destination, 'bindMount: destination');
  const opts = [options.recursive === false ? 'bind' : 'rbind', options.readonly ? 'ro' : 'rw'];
  if (options.propagation !== undefined) opts.push(options.propagation);
  return { destination, type: 'bind', source, options: opts };
}

/** Options of {@link tmpfsMount}. */
export interface TmpfsMountOptions {
  /** Size limit in bytes. Default: the kernel's (half of RAM). */
  size?: number;
  /** Mode of the root directory. Default `0o1777`. */
  mode?: number;
  /** Further mount options. Default `['nosuid', 'nodev', 'noexec']`, like Docker's `--tmpfs`. */
  options?: string[];
}

/**
 * A tmpfs mounted at `destination`.
 *
 * @throws ERR_INVALID_ARGUMENT for a relative destination or a bad size or mode.
 */
export function tmpfsMount(destination: string, options: TmpfsMountOptions = {}): SpecMount {
  checkAbsolute(destination, 'tmpfsMount: destination');
  const opts = [...(options.options ?? ['nosuid', 'nodev', 'noexec'])];
  for (const o of opts) checkString(o, 'tmpfsMount: each option');
  checkInteger(options.mode ?? 0o1777, 'tmpfsMount: mode', 0, 0o7777);
  opts.push(`mode=${(options.mode ?? 0o1777).toString(8)}`);
  if (options.size !== undefined) {
    checkInteger(options.size, 'tmpfsMount: size', 1);
    opts.push(`size=${options.size}`);
  }
  return { destination, type: 'tmpfs', source: 'tmpfs', options: opts };
}

/**
 * Adds mounts (see {@link bindMount}, {@link tmpfsMount}). A mount whose destination is already mounted replaces
 * that mount, as Docker's user mounts replace its defaults; the others are appended in order.
 *
 * @throws ERR_INVALID_ARGUMENT for a mount without an absolute destination or with non-string options.
 */
export function withMounts(mounts: readonly SpecMount[]): SpecOpt {
  if (!Array.isArray(mounts)) throw newError('ERR_INVALID_ARGUMENT', 'withMounts: mounts must be an array');
  for (const m of mounts) {
    checkAbsolute(m?.destination, 'withMounts: destination');
    if (m.options !== undefined && (!Array.isArray(m.options) || m.options.some((o: unknown) => typeof o !== 'string'))) {
      throw newError('ERR_INVALID_ARGUMENT', `withMounts: options of ${m.destination} must be strings`);
    }
  }
  return (_ctx, spec) => {
    const list = spec.mounts ?? [];
    for (const m of mounts) {
      const copy: SpecMount = { ...m, ...(m.options ? { options: [...m.options] } : {}) };
      const dest = posix.normalize(m.destination);
      const at = list.findIndex((x) => posix.normalize(x.destination) === dest);
      if (at >= 0) list[at] = copy;
      else list.push(copy);
    }
    spec.mounts = list;
  };
}

/**
 * Sets the size of the `/dev/shm` tmpfs in bytes (Docker's `--shm-size`; the default is 64 MiB).
 *
 * @throws ERR_INVALID_ARGUMENT for a size that is not a positive integer; ERR_FAILED_PRECONDITION when the
 *   spec has no tmpfs at `/dev/shm`.
 */
export function withShmSize(bytes: number): SpecOpt {
  checkInteger(bytes, 'withShmSize: bytes', 1);
  return (_ctx, spec) => {
    const shm = spec.mounts?.find((m) => posix.normalize(m.destination) === '/dev/shm' && m.type === 'tmpfs');
    if (!shm) throw newError('ERR_FAILED_PRECONDITION', 'withShmSize: the spec has no tmpfs mounted at /dev/shm');
    shm.options = [...(shm.options ?? []).filter((o) => !o.startsWith('size=')), `size=${bytes}`];
  };
}

/** Mounts the root filesystem read-only (default `true`). */
export function withReadonlyRootfs(readonly = true): SpecOpt {
  return (_ctx, spec) => {
    spec.root = { ...spec.root, path: spec.root?.path ?? 'rootfs', readonly };
  };
}

/**
 * Sets the root filesystem's path: absolute, or relative to the bundle (default `rootfs`). An absolute path
 * is also where user lookups read `/etc/passwd` when `generateSpec` is given no `rootfs`.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty path.
 */
export function withRootPath(path: string): SpecOpt {
  checkString(path, 'withRootPath: path');
  return (_ctx, spec) => {
    spec.root = { ...spec.root, path };
  };
}

/** Where {@link withInit} finds the init binary on the host: Debian's `tini` package (static build). */
export const DEFAULT_INIT_HOST_PATH = '/usr/bin/tini-static';
/** Where {@link withInit} mounts the init binary in the container (Docker uses `/sbin/docker-init`). */
export const DEFAULT_INIT_PATH = '/sbin/containerkit-init';

/** Options of {@link withInit}. */
export interface InitOptions {
  /** The init binary on the host; it must be static (the image may have no libc). Default {@link DEFAULT_INIT_HOST_PATH}. */
  hostPath?: string;
  /** Where it is mounted (read-only) in the container. Default {@link DEFAULT_INIT_PATH}. */
  path?: string;
}

/**
 * Runs a tiny init (tini) as PID 1, like `docker run --init`: it forwards signals to the process and reaps
 * orphaned zombies. Bind-mounts the host's init binary read-only into the container and, after every other
 * option ran (so its place in the list does not matter), prepends `<path> --` to the process's args.
 *
 * @throws ERR_INVALID_ARGUMENT for relative paths, or (at the end) when the process has no args;
 *   ERR_TOOL_MISSING when the init binary is not on the host (install Debian's `tini`).
 */
export function withInit(options: InitOptions = {}): SpecOpt {
  const hostPath = options.hostPath ?? DEFAULT_INIT_HOST_PATH;
  const path = options.path ?? DEFAULT_INIT_PATH;
  checkAbsolute(hostPath, 'withInit: options.hostPath');
  checkAbsolute(path, 'withInit: options.path');
  return async (ctx, spec) => {
    try {
      if (!(await stat(hostPath)).isFile()) throw new Error('not a regular file');
    } catch (err) {
      throw newError('ERR_TOOL_MISSING', `withInit: no init binary at ${hostPath} (install tini)`, { cause: err });
    }
    await withMounts([bindMount(hostPath, path, { readonly: true, recursive: false })])(ctx, spec);
    ctx.finalizers.push((_c, s) => {
      const proc = setProcess(s);
      if (!proc.args || proc.args.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'withInit: the process has no args to run under init');
      if (proc.args[0] !== path) proc.args = [path, '--', ...proc.args];
    });
  };
}
