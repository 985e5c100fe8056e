/**
 * Types of the `linux` section of the OCI runtime-spec `config.json` (`config-linux.md`), re-exported by
 * `runtime-spec.ts`. Integers given as int64/uint64 by the spec are `number`.
 * @module
 */

/** A Linux namespace kind. */
export type LinuxNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

/** A namespace to create, or to join when `path` is set (e.g. `/proc/123/ns/net`). */
export interface LinuxNamespace {
  type: LinuxNamespaceType;
  path?: string;
}

/** A user-namespace id mapping. */
export interface LinuxIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A device node to create in the container. */
export interface LinuxDevice {
  /** `c`, `b`, `u` or `p`. */
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A device cgroup rule. */
export interface LinuxDeviceCgroup {
  allow: boolean;
  /** `a`, `c` or `b`. */
  type?: string;
  major?: number | null;
  minor?: number | null;
  /** Any of `r`, `w`, `m`. */
  access?: string;
}

/** Memory limits in bytes; -1 means unlimited. */
export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  /** Memory plus swap. */
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

/** CPU limits. */
export interface LinuxCpu {
  shares?: number;
  /** Microseconds per `period`; -1 means unlimited. */
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  /** cpuset, e.g. `0-3`. */
  cpus?: string;
  mems?: string;
  idle?: number;
}

/** Pids limit; -1 or 0 means unlimited. */
export interface LinuxPids {
  limit: number;
}

/** A per-device block IO weight. */
export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

/** A per-device block IO rate limit. */
export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

/** Block IO limits. */
export interface LinuxBlockIo {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

/** A hugetlb limit, e.g. `{ pageSize: '2MB', limit: 209715200 }`. */
export interface LinuxHugepageLimit {
  pageSize: string;
  limit: number;
}

/** Network cgroup settings (cgroup v1). */
export interface LinuxNetwork {
  classID?: number;
  priorities?: { name: string; priority: number }[];
}

/** cgroup resource limits. */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCpu;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIo;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  /** cgroup v2 files and values, e.g. `{ 'memory.high': '1G' }`. */
  unified?: Record<string, string>;
}

/** A seccomp action. */
export type LinuxSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

/** A seccomp argument comparison operator. */
export type LinuxSeccompOperator = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** A condition on one syscall argument. */
export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: LinuxSeccompOperator;
}

/** A rule for a group of syscalls. */
export interface LinuxSyscall {
  names: string[];
  action: LinuxSeccompAction;
  /** errno returned with SCMP_ACT_ERRNO (default EPERM). */
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** A seccomp profile. */
export interface LinuxSeccomp {
  defaultAction: LinuxSeccompAction;
  defaultErrnoRet?: number;
  /** e.g. `SCMP_ARCH_X86_64`. */
  architectures?: string[];
  /** e.g. `SECCOMP_FILTER_FLAG_LOG`. */
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

/** Intel RDT (resctrl) settings. */
export interface LinuxIntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

/** Linux-specific configuration. */
export interface SpecLinux {
  namespaces?: LinuxNamespace[];
  uidMappings?: LinuxIdMapping[];
  gidMappings?: LinuxIdMapping[];
  devices?: LinuxDevice[];
  /** cgroup path, relative to the cgroup root, or `slice:prefix:name` with the systemd driver. */
  cgroupsPath?: string;
  resources?: LinuxResources;
  seccomp?: LinuxSeccomp;
  /** Paths made inaccessible (a /dev/null bind or an empty tmpfs). */
  maskedPaths?: string[];
  /** Paths remounted read-only. */
  readonlyPaths?: string[];
  /** SELinux context of the container's mounts. */
  mountLabel?: string;
  /** Kernel parameters, e.g. `{ 'net.ipv4.ip_forward': '1' }`. */
  sysctl?: Record<string, string>;
  /** `shared`, `slave`, `private`, `unbindable` and their `r` variants. */
  rootfsPropagation?: string;
  intelRdt?: LinuxIntelRdt;
}
