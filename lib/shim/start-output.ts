import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { newError } from '../errors/index.js';

/** Where a started shim serves, as its `start` subcommand told. */
export interface ShimBootstrap {
  /** The ttrpc address, `unix:///run/containerd/s/<hash>`. */
  address: string;
  /** The task API version it serves: 2 (`containerd.task.v2.Task`) is the only one containerkit speaks. */
  version: number;
  /** `ttrpc` (a `grpc` shim is refused). */
  protocol: string;
}

/** The directory where containerd 1.x shims put their sockets. */
export const SHIM_SOCKET_DIR = '/run/containerd/s';

/**
 * The socket path a containerd 1.6/1.7 shim listens on for `-address`, `-namespace` and container (group) id: the
 * hex sha256 of `path.Join(address, namespace, id)` under `/run/containerd/s`. Pure.
 */
export function shimSocketPath(address: string, namespace: string, id: string): string {
  const hash = createHash('sha256')
    .update(posix.join(address, namespace, id))
    .digest('hex');
  return `${SHIM_SOCKET_DIR}/${hash}`;
}

function failed(message: string, output: string): Error {
  return newError('ERR_SHIM_START_FAILED', message, { details: { output: output.slice(0, 512) } });
}

// containerd 2.3+ shims print a protobuf BootstrapResult{version=1 int32, address=2, protocol=3, …}. Only the
// first three fields matter here; anything unparsable returns undefined so the other forms are tried.
function decodeBootstrapProto(bytes: Uint8Array): ShimBootstrap | undefined {
  let i = 0;
  const out: Partial<ShimBootstrap> = {};
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (i >= bytes.length) return undefined;
      const b = bytes[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  };
  while (i < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      if (field === 1) out.version = v;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || i + len > bytes.length) return undefined;
      const text = Buffer.from(bytes.subarray(i, i + len)).toString('utf8');
      i += len;
      if (field === 2) out.address = text;
      if (field === 3) out.protocol = text;
    } else {
      return undefined;
    }
  }
  if (out.version === undefined || out.address === undefined) return undefined;
  return { version: out.version, address: out.address, protocol: out.protocol ?? 'ttrpc' };
}

/**
 * Parses what `<shim> … start` printed, in each form shims use: the plain address (containerd 1.x shims:
 * `unix:///run/containerd/s/<hash>`), JSON `{"version":N,"address":…,"protocol":…}` (2.0–2.2) and the protobuf
 * BootstrapResult (2.3+). Pure.
 *
 * @throws ERR_SHIM_TASK_API_UNSUPPORTED when the shim serves a task API other than v2 (containerd 2.x shims serve
 *   v3) or speaks grpc; ERR_SHIM_START_FAILED for empty or unusable output (an abstract socket without `unix://`
 *   included: pre-1.4.3 shims are not supported).
 */
export function parseShimStartOutput(output: Uint8Array | string): ShimBootstrap {
  const bytes = typeof output === 'string' ? Buffer.from(output, 'utf8') : Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const text = bytes.toString('utf8').trim();
  let boot: ShimBootstrap | undefined;
  if (text.startsWith('unix://')) {
    boot = { address: text, version: 2, protocol: 'ttrpc' };
  } else if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw newError('ERR_SHIM_START_FAILED', 'the shim printed malformed JSON', { cause: err, details: { output: text.slice(0, 512) } });
    }
    const { version, address, protocol } = (json ?? {}) as Record<string, unknown>;
    if (typeof version !== 'number' || typeof address !== 'string') throw failed('the shim printed JSON without a version and an address', text);
    boot = { version, address, protocol: typeof protocol === 'string' ? protocol : 'ttrpc' };
  } else if (bytes.length > 0 && bytes[0] === 0x08) {
    boot = decodeBootstrapProto(bytes);
  }
  if (boot === undefined) {
    if (text === '') throw failed('the shim printed no address', text);
    throw failed(`the shim printed an address containerkit cannot use: ${JSON.stringify(text.slice(0, 200))} (only unix:// sockets are supported)`, text);
  }
  if (boot.protocol !== 'ttrpc') {
    throw newError('ERR_SHIM_TASK_API_UNSUPPORTED', `the shim speaks ${boot.protocol}; containerkit speaks ttrpc`, { details: { ...boot } });
  }
  if (boot.version !== 2) {
    throw newError(
      'ERR_SHIM_TASK_API_UNSUPPORTED',
      `the shim serves task API v${boot.version} (containerd 2.x shims serve containerd.task.v3.Task); containerkit speaks containerd.task.v2.Task, what containerd 1.x shims serve`,
      {
        details: { ...boot },
      },
    );
  }
  if (!boot.address.startsWith('unix:///')) throw failed(`the shim printed an address containerkit cannot use: ${JSON.stringify(boot.address)}`, text);
  return boot;
}
