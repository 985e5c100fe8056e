import { newError } from '../errors/index.js';
import { Options } from '../gen/containerd/types/runc/options/oci.js';
import { Any } from '../gen/google/protobuf/any.js';
import { protoAny } from './convert.js';

/** Type URL of the runc shims' options (`containerd.runc.v1.Options`, no prefix: containerd's typeurl convention). */
export const RUNC_OPTIONS_TYPE_URL = 'containerd.runc.v1.Options';

/**
 * Options of the runc shims (`containerd-shim-runc-v2`), handed to `start` on stdin and to `Create`. Every field is
 * optional; an unset field keeps the shim's default.
 */
export interface RuncShimOptions {
  /** runc's `--root` state directory. Default (shim): `/run/containerd/runc/<namespace>`. */
  root?: string;
  /** The runc binary, a name on PATH or an absolute path. Default (shim): `runc`. */
  binaryName?: string;
  /** Use the systemd cgroup driver. Default false. */
  systemdCgroup?: boolean;
  /** Skip pivot_root. Default false. */
  noPivotRoot?: boolean;
  /** Do not create a session keyring. Default false. */
  noNewKeyring?: boolean;
  /** Cgroup to move the shim into. Default: none. */
  shimCgroup?: string;
  /** Owner of the stdio pipes the shim creates. Default 0. */
  ioUid?: number;
  ioGid?: number;
  /** criu image and work paths for checkpoints. */
  criuImagePath?: string;
  criuWorkPath?: string;
}

function validate(options: RuncShimOptions): void {
  for (const key of ['root', 'binaryName', 'shimCgroup', 'criuImagePath', 'criuWorkPath'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') throw newError('ERR_INVALID_ARGUMENT', `options.${key} must be a string`);
  }
  for (const key of ['ioUid', 'ioGid'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw newError('ERR_INVALID_ARGUMENT', `options.${key} must be a uint32`);
  }
}

/** The runc options as the Any the shim expects in `CreateTaskRequest.options`. @throws ERR_INVALID_ARGUMENT for bad values. */
export function runcOptionsAny(options: RuncShimOptions): Any {
  validate(options);
  const message = Options.fromPartial({
    root: options.root,
    binaryName: options.binaryName,
    systemdCgroup: options.systemdCgroup,
    noPivotRoot: options.noPivotRoot,
    noNewKeyring: options.noNewKeyring,
    shimCgroup: options.shimCgroup,
    ioUid: options.ioUid,
    ioGid: options.ioGid,
    criuImagePath: options.criuImagePath,
    criuWorkPath: options.criuWorkPath,
  });
  return protoAny(RUNC_OPTIONS_TYPE_URL, Options.encode(message).finish());
}

/**
 * The bytes to write on the stdin of `containerd-shim-runc-v2 … start`: a serialized `google.protobuf.Any` of the
 * runc options (the shim reads them to place itself in `shimCgroup`, and uses them for later runc calls).
 * @throws ERR_INVALID_ARGUMENT for bad values.
 */
export function encodeRuncOptions(options: RuncShimOptions): Uint8Array {
  return Any.encode(runcOptionsAny(options)).finish();
}
