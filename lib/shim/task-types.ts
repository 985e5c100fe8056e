import type { Mount, ProcessState, SpecProcess } from '../oci/index.js';
import type { RuncShimOptions } from './runc-options.js';

// The domain types of ShimTaskClient: what callers pass and get back, free of generated protobuf types.

/** Per-call options of every `ShimTaskClient` method. */
export interface ShimCallOptions {
  /** Rejects the call with `signal.reason` on abort (the shim may still carry it out). */
  signal?: AbortSignal;
  /** Deadline in ms, sent to the shim and enforced here. Default: the client's `callTimeoutMs`. */
  timeoutMs?: number;
}

/** Options of a `ShimTaskClient`. */
export interface ShimTaskClientOptions {
  /** Sent as `containerd-namespace-ttrpc` on every call (the shim's `-namespace`). Default: not sent. */
  namespace?: string;
  /** Default deadline of every call except `wait`, in ms. Default none. */
  callTimeoutMs?: number;
}

/** What `create` needs. Stdio entries are FIFO paths, `file://` or `binary://` URIs; empty or absent means none. */
export interface CreateTaskRequest {
  id: string;
  /** Absolute bundle path; its basename must equal `id` (the shim's `delete` finds it that way). */
  bundle: string;
  /** Mounted by the shim onto `<bundle>/rootfs`; leave empty when config.json's `root.path` is ready. */
  rootfs?: Mount[];
  terminal?: boolean;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  /** Restore from this checkpoint directory. */
  checkpoint?: string;
  parentCheckpoint?: string;
  /** Runtime options of the runc shim (runc root, binary, cgroup driver…). */
  runcOptions?: RuncShimOptions;
}

/** What `exec` needs besides the ids. */
export interface ExecProcessRequest {
  /** The OCI process to run (args, env, cwd, user, terminal…). */
  process: SpecProcess;
  terminal?: boolean;
  stdin?: string;
  stdout?: string;
  stderr?: string;
}

/**
 * The answer of `state`: the shared process state (its `exit` set once it stopped) and what the shim holds of the
 * process's bundle and stdio (FIFO paths or URIs; '' for none).
 */
export interface TaskState extends ProcessState {
  bundle: string;
  stdin: string;
  stdout: string;
  stderr: string;
}

/** The answer of `connect`. */
export interface ShimConnectInfo {
  /** The shim daemon's pid (the only way to learn it for runc v2 shims). */
  shimPid: number;
  /** The init process's pid; 0 before `create`. */
  taskPid: number;
  /** Empty for the 1.6 runc shim. */
  version: string;
}
