import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { LinuxDevice, Spec } from '../oci/runtime-spec.js';
import type { SpecOpt } from '../runtime/spec/spec-opt.js';

// A privileged docker container sees the host's devices: dockerd lists /dev as runc's `devices.HostDevices` does
// and puts every character and block device into `linux.devices`, which runc then creates in the container's /dev
// (the device cgroup already allows all of them for a privileged container).

/** Directories of /dev that hold no device of the host's own, or mounts runc makes itself (runc's list). */
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The major and minor numbers of a Linux `dev_t` (glibc's `gnu_dev_major`/`gnu_dev_minor`). */
function majorMinor(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * Every character and block device under `dir` (default `/dev`), recursively, as `linux.devices` entries with
 * their host paths, numbers, permission bits and owners; `pts`, `shm`, `fd`, `mqueue` and `console` are skipped,
 * as runc's HostDevices does. Symlinks are not followed.
 *
 * @throws ERR_IO when `dir` cannot be read. Rejects with `signal.reason` on abort.
 */
export async function readHostDevices(dir = '/dev', options: { signal?: AbortSignal } = {}): Promise<LinuxDevice[]> {
  const { signal } = options;
  const out: LinuxDevice[] = [];
  const visit = async (path: string): Promise<void> => {
    signal?.throwIfAborted();
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (err) {
      throw newError('ERR_IO', `cannot list ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
    }
    for (const e of entries) {
      const full = join(path, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) await visit(full);
        continue;
      }
      if ((!e.isCharacterDevice() && !e.isBlockDevice()) || e.name === 'console') continue;
      // A device removed meanwhile (hot-unplug) is skipped.
      const st = await lstat(full, { bigint: true }).catch(() => undefined);
      if (!st || (!st.isCharacterDevice() && !st.isBlockDevice())) continue;
      out.push({
        type: st.isCharacterDevice() ? 'c' : 'b',
        path: full,
        ...majorMinor(st.rdev),
        fileMode: Number(st.mode & 0o777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  };
  await visit(dir);
  return out;
}

/** Adds the host's devices ({@link readHostDevices}) to `linux.devices`, after any already there for another path. */
export function withHostDevices(dir = '/dev'): SpecOpt {
  return async (ctx, spec: Spec) => {
    const devices = await readHostDevices(dir, { signal: ctx.signal });
    spec.linux ??= {};
    const have = new Set((spec.linux.devices ?? []).map((d) => d.path));
    spec.linux.devices = [...(spec.linux.devices ?? []), ...devices.filter((d) => !have.has(d.path))];
  };
}
