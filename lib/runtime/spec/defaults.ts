import { type LinuxNamespace, RUNTIME_SPEC_VERSION, type Spec, type SpecMount } from '../../oci/runtime-spec.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';

// The default Linux spec: containerd's `populateDefaultUnixSpec` (pkg/oci/spec.go, mounts.go), plus the
// read-only cgroup mount that moby and `runc spec` add. Docker's seccomp profile and the rlimit clamp are added
// by generateSpec once the options ran.

/** The PATH a process gets when neither the image nor the options set one (containerd's `defaultUnixEnv`). */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The namespace of cgroup paths when none is given: `/<namespace>/<id>`. */
export const DEFAULT_CGROUP_NAMESPACE = 'containerkit';

/** The default mounts, in order: containerd's (with `/run`) and the read-only cgroup mount after `/sys`. */
export const DEFAULT_MOUNTS: readonly Readonly<SpecMount>[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
  { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
];

/** Paths made inaccessible in the container (containerd's list). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
  '/proc/scsi',
];

/** Paths remounted read-only in the container (containerd's list). */
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The namespaces a container gets: all but user, cgroup and time (containerd's list, in its order). */
export const DEFAULT_NAMESPACES: readonly LinuxNamespace['type'][] = ['pid', 'ipc', 'uts', 'mount', 'network'];

/** Options of {@link createDefaultSpec}. */
export interface DefaultSpecOptions {
  /** The container id; with it `linux.cgroupsPath` is `/<namespace>/<id>`, without it runc picks the path. */
  id?: string;
  /** The first element of the cgroup path. Default {@link DEFAULT_CGROUP_NAMESPACE}. */
  namespace?: string;
}

/**
 * A fresh copy of the default spec, before options: containerd's default Linux spec (root `rootfs`
 * read-write, process `/` as 0:0 without a terminal, no new privileges, the default capabilities in the bounding,
 * effective and permitted sets, RLIMIT_NOFILE 1024/1024, the default mounts, masked and read-only paths and
 * namespaces, all devices denied in the device cgroup; runc itself still creates and allows /dev/null, zero,
 * full, random, urandom, tty and the pty devices). No args, env or seccomp yet. Pure.
 */
export function createDefaultSpec(options: DefaultSpecOptions = {}): Spec {
  const caps = (): string[] => [...DEFAULT_CAPABILITIES];
  const spec: Spec = {
    ociVersion: RUNTIME_SPEC_VERSION,
    root: { path: 'rootfs', readonly: false },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      cwd: '/',
      noNewPrivileges: true,
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    },
    mounts: DEFAULT_MOUNTS.map((m) => ({ ...m, options: [...(m.options ?? [])] })),
    linux: {
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: DEFAULT_NAMESPACES.map((type) => ({ type })),
    },
  };
  if (options.id !== undefined) spec.linux!.cgroupsPath = `/${options.namespace ?? DEFAULT_CGROUP_NAMESPACE}/${options.id}`;
  return spec;
}
