/**
 * What the runc verbs return, as typed values: container state, exit results, stats, events, features and the
 * version. Parsed from runc's JSON by parse.ts and events.ts; field names are camelCase here even where runc's
 * JSON uses snake_case.
 * @module
 */
import type { Readable } from 'node:stream';
import type { ExitStatus } from '../oci/task.js';

/** The lifecycle states runc reports (runtime-spec "state" plus runc's `paused`). */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** A container as `runc state` and `runc list` describe it. */
export interface ContainerState {
  /** The runtime-spec version the container was created with. */
  ociVersion: string;
  id: string;
  /** The container's init process as seen from the host; 0 once it is stopped. */
  pid: number;
  status: ContainerStatus;
  /** Absolute path of the bundle the container was created from. */
  bundle: string;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  created: Date;
  /** The user that owns the container (empty in `runc state`, the user name in `runc list`). */
  owner: string;
  /** The annotations of the container's config.json (empty when it had none). */
  annotations: Record<string, string>;
}

/** One entry of `runc list`: the same fields as {@link ContainerState}. */
export type ContainerInfo = ContainerState;

/**
 * How a foreground process (`run`, attached `exec`, foreground `restore`) ended: the shared {@link ExitStatus}
 * (`code`, the real exit status of the container's process as runc reports it, 128 + N for death by signal N, 137
 * for SIGKILL; `exitedAt`, when runc was seen to exit, which it does as soon as the process has), plus the signal
 * and the piped output.
 */
export interface ExitResult extends ExitStatus {
  /** When the process was observed to have exited (runc, its parent, exits with it). */
  exitedAt: Date;
  /**
   * The signal 128 + N names, when `code` is above 128. runc reports a killed process that way, so a process
   * that itself calls `exit(137)` looks the same: this is the reading shells use, not extra evidence.
   */
  signal?: NodeJS.Signals;
  /** Everything the process wrote to stdout, when stdout was `'pipe'` (utf-8). */
  stdout?: string;
  /** Everything the process wrote to stderr, when stderr was `'pipe'` (utf-8). */
  stderr?: string;
}

/**
 * What a detached `create`, `run`, `exec` or `restore` hands back. There is no exit status: a detached process's
 * parent is runc, which exits at once, so only a reaper (the ShimManager, a subreaper) can learn how it ended.
 */
export interface DetachedResult {
  /** The process's pid on the host (from runc's pid file). */
  pid: number;
  /**
   * The process's output when stdio was `'pipe'` (`null` otherwise). Read or destroy them: they stay open, and
   * keep Node's event loop alive, until the process and everything it started have closed them. (A detached
   * process's stdin cannot be a pipe; see `prepareStdio`.)
   */
  stdout: Readable | null;
  stderr: Readable | null;
}

/** One usage/limit group of the memory cgroup. Absent fields are 0 (runc omits zeros). */
export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

/** One entry of a blkio list. */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Per network interface counters (when runc can see the container's network namespace). */
export interface NetworkInterfaceStats {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/**
 * A container's resource usage (`runc events --stats`). Counters are numbers; the cgroup v1 "unlimited" value
 * (2^63 − 4096) is beyond 2^53 and so only approximate. Fields runc omitted read as 0 or empty.
 */
export interface Stats {
  cpu: {
    usage: { total: number; perCpu: number[]; perCpuKernel: number[]; perCpuUser: number[]; kernel: number; user: number };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTcp: MemoryEntry;
    /** The cgroup's raw `memory.stat` counters. */
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueuedRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
  };
  /** Per huge page size (`2MB`, `1GB`). */
  hugetlb: Record<string, { usage: number; max: number; failcnt: number }>;
  networkInterfaces: NetworkInterfaceStats[];
}

/** A periodic stats sample from `runc events`. */
export interface StatsEvent {
  type: 'stats';
  id: string;
  stats: Stats;
}

/** The container hit its memory limit and the OOM killer ran. */
export interface OomEvent {
  type: 'oom';
  id: string;
}

/** An event type this version of containerkit does not know; `data` is runc's JSON as is. */
export interface UnknownEvent {
  type: 'unknown';
  id: string;
  /** The `type` runc gave. */
  eventType: string;
  data: unknown;
}

/**
 * A line of `runc events` that could not be decoded. The stream goes on after it (like go-runc), so one odd
 * line does not end monitoring.
 */
export interface ErrorEvent {
  type: 'error';
  /** An `ERR_RUNC_FAILED` error describing what was wrong with the line. */
  error: Error;
  /** The line as runc printed it (capped at 1 KiB). */
  line: string;
}

/** What `OCIRuntime.events` yields. */
export type RuncEvent = StatsEvent | OomEvent | UnknownEvent | ErrorEvent;

/** `runc --version`, parsed. Lines other runtimes print (crun's `rundir:`, its `+FEATURE` line) go to `extra`. */
export interface RuntimeVersion {
  /** The program's name as it prints it (`runc`, `crun`, `youki`). */
  name: string;
  /** The version, e.g. `1.1.5+ds1`. */
  version: string;
  commit?: string;
  /** The runtime-spec version it implements, e.g. `1.0.2-dev`. */
  spec?: string;
  /** The Go version runc was built with. */
  go?: string;
  libseccomp?: string;
  /** Every other `key: value` line, and a `features` entry for a line of `+X -Y` flags. */
  extra: Record<string, string>;
}

/** `runc features` (runtime-spec "features" document), parsed. Lists are empty when the runtime omits them. */
export interface RuntimeFeatures {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
    seccomp: { enabled: boolean; actions: string[]; operators: string[]; archs: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
  };
  annotations: Record<string, string>;
}
