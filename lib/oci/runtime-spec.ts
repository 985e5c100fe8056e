/**
 * Types of the OCI runtime-spec `config.json` (Linux parts), as runc reads it. Field names are the spec's JSON
 * names. Integers the spec gives as int64/uint64 are `number`: values beyond 2^53 do not occur in practice.
 * @module
 */
import type { LinuxIdMapping, SpecLinux } from './runtime-spec-linux.js';

export type * from './runtime-spec-linux.js';

/** The runtime-spec version runc 1.1 (Debian 12) reports and accepts. */
export const RUNTIME_SPEC_VERSION = '1.0.2-dev';

/** A container's `config.json`. */
export interface Spec {
  /** The runtime-spec version the document follows, e.g. {@link RUNTIME_SPEC_VERSION}. */
  ociVersion: string;
  /** The container's process. Required by `runc run`/`create`. */
  process?: SpecProcess;
  /** The root filesystem. */
  root?: SpecRoot;
  /** The container's hostname (needs a UTS namespace). */
  hostname?: string;
  /** The container's NIS domain name (needs a UTS namespace). */
  domainname?: string;
  /** Mounts made in order after the root is set up. */
  mounts?: SpecMount[];
  /** Lifecycle hooks. */
  hooks?: SpecHooks;
  /** Arbitrary metadata. */
  annotations?: Record<string, string>;
  /** Linux-specific configuration. */
  linux?: SpecLinux;
}

/** The container's process. */
export interface SpecProcess {
  /** Allocate a pseudo-terminal (stdio becomes the console). */
  terminal?: boolean;
  /** Console size when `terminal` is set. */
  consoleSize?: ConsoleSize;
  /** Who the process runs as. */
  user: SpecUser;
  /** argv; `args[0]` is looked up in the container's PATH. */
  args?: string[];
  /** `KEY=value` entries. */
  env?: string[];
  /** Working directory, absolute inside the container. */
  cwd: string;
  /** Capability sets. */
  capabilities?: LinuxCapabilities;
  /** Resource limits (setrlimit). */
  rlimits?: PosixRlimit[];
  /** Set the no_new_privs bit. */
  noNewPrivileges?: boolean;
  /** AppArmor profile name. */
  apparmorProfile?: string;
  /** `/proc/self/oom_score_adj`. */
  oomScoreAdj?: number;
  /** SELinux label of the process. */
  selinuxLabel?: string;
}

/** Terminal dimensions. */
export interface ConsoleSize {
  height: number;
  width: number;
}

/** The user a process runs as (numeric, resolved beforehand). */
export interface SpecUser {
  uid: number;
  gid: number;
  /** File mode creation mask. */
  umask?: number;
  /** Supplementary group ids. */
  additionalGids?: number[];
}

/** Capability names such as `CAP_CHOWN`, per set. */
export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

/** One resource limit, e.g. `{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }`. */
export interface PosixRlimit {
  type: string;
  hard: number;
  soft: number;
}

/** The container's root filesystem. */
export interface SpecRoot {
  /** Path to the rootfs, absolute or relative to the bundle. */
  path: string;
  /** Mount the root read-only. */
  readonly?: boolean;
}

/** A mount in `config.json` (not to be confused with containerd's `Mount` in `mount.ts`). */
export interface SpecMount {
  /** Absolute path inside the container. */
  destination: string;
  /** Device, directory or label. */
  source?: string;
  /** Filesystem type; `bind` for bind mounts. */
  type?: string;
  /** Options as `mount -o` takes them. */
  options?: string[];
  /** Id-mapped mount mappings (runtime-spec 1.1). */
  uidMappings?: LinuxIdMapping[];
  gidMappings?: LinuxIdMapping[];
}

/** A hook program. */
export interface SpecHook {
  /** Absolute path of the program. */
  path: string;
  /** argv, including argv[0]. */
  args?: string[];
  env?: string[];
  /** Seconds before the hook is killed. */
  timeout?: number;
}

/** Hooks by lifecycle point. */
export interface SpecHooks {
  /** Deprecated: use createRuntime. */
  prestart?: SpecHook[];
  createRuntime?: SpecHook[];
  createContainer?: SpecHook[];
  startContainer?: SpecHook[];
  poststart?: SpecHook[];
  poststop?: SpecHook[];
}
