import { ClientError, type ClientMiddleware } from 'nice-grpc';
import { ContainerkitError, type ErrorCode, newError } from '../errors/index.js';

// gRPC status code → containerkit code. containerd's errdefs families map one-to-one onto these.
const CODE_OF_GRPC: Record<number, ErrorCode> = {
  1: 'ERR_CONTAINERD_UNAVAILABLE', // CANCELLED by the server side
  2: 'ERR_CONTAINERD_INTERNAL', // UNKNOWN
  3: 'ERR_CONTAINERD_INVALID_ARGUMENT',
  4: 'ERR_DEADLINE_EXCEEDED', // the server saw the call's deadline pass
  5: 'ERR_CONTAINERD_NOT_FOUND',
  6: 'ERR_CONTAINERD_ALREADY_EXISTS',
  7: 'ERR_CONTAINERD_PERMISSION_DENIED',
  8: 'ERR_CONTAINERD_UNAVAILABLE', // RESOURCE_EXHAUSTED
  9: 'ERR_CONTAINERD_FAILED_PRECONDITION',
  10: 'ERR_CONTAINERD_CONFLICT', // ABORTED
  11: 'ERR_CONTAINERD_INVALID_ARGUMENT', // OUT_OF_RANGE (a content write at the wrong offset)
  12: 'ERR_CONTAINERD_UNIMPLEMENTED',
  13: 'ERR_CONTAINERD_INTERNAL',
  14: 'ERR_CONTAINERD_UNAVAILABLE',
  15: 'ERR_CONTAINERD_INTERNAL', // DATA_LOSS
  16: 'ERR_CONTAINERD_PERMISSION_DENIED', // UNAUTHENTICATED
};

/** What a failed call looked like on the wire. */
export interface GrpcFailure {
  /** The gRPC status code. */
  code: number;
  /** containerd's message. */
  message: string;
  /** The full method path, e.g. `/containerd.services.tasks.v1.Tasks/Get`. */
  method: string;
}

/**
 * Translates a gRPC status of a containerd call into a containerkit error: NOT_FOUND → ERR_CONTAINERD_NOT_FOUND,
 * ALREADY_EXISTS → ERR_CONTAINERD_ALREADY_EXISTS, ABORTED → ERR_CONTAINERD_CONFLICT, … (unknown codes →
 * ERR_CONTAINERD_INTERNAL). `details` = `{ grpcCode, grpcMessage, method }` plus `extra`.
 */
export function grpcStatusToError(failure: GrpcFailure, extra: Record<string, unknown> = {}, cause?: unknown): ContainerkitError {
  const code = CODE_OF_GRPC[failure.code] ?? 'ERR_CONTAINERD_INTERNAL';
  const text = failure.message === '' ? `gRPC code ${failure.code}` : failure.message;
  return newError(code, `containerd ${failure.method}: ${text}`, {
    cause,
    details: {
      ...(code === 'ERR_DEADLINE_EXCEEDED' ? { transport: 'grpc' } : {}),
      grpcCode: failure.code,
      grpcMessage: failure.message,
      method: failure.method,
      ...extra,
    },
  });
}

/** ERR_CONTAINERD_UNAVAILABLE for a socket that cannot be reached, naming it (`details.address`). */
export function unreachableError(address: string, reason: string, extra: Record<string, unknown> = {}, cause?: unknown): ContainerkitError {
  return newError('ERR_CONTAINERD_UNAVAILABLE', `cannot reach containerd at ${address}: ${reason}`, { cause, details: { ...extra, address } });
}

// grpc-js's message for a call on a closed channel (internal-channel.js createCall).
const CHANNEL_CLOSED = 'Channel has been shut down';

/**
 * The outermost client middleware: an already-aborted `signal` rejects with its reason before anything is sent; a
 * call that fails after the caller's signal aborted rejects with `signal.reason` (not nice-grpc's AbortError); a
 * gRPC status becomes a typed error through {@link grpcStatusToError}, UNAVAILABLE through {@link unreachableError}, and a
 * call on a closed client ERR_CONTAINERD_UNAVAILABLE.
 */
export function errorMiddleware(address: string): ClientMiddleware {
  return async function* mapErrors(call, options) {
    options.signal?.throwIfAborted();
    try {
      return yield* call.next(call.request, options);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      const method = call.method.path;
      if (err instanceof ClientError) {
        if (err.code === 14) throw unreachableError(address, err.details, { grpcCode: err.code, grpcMessage: err.details, method }, err);
        throw grpcStatusToError({ code: err.code, message: err.details, method }, {}, err);
      }
      // grpc-js throws a plain Error for a call made after `close()`: the client is gone, not containerd.
      if (err instanceof Error && err.message === CHANNEL_CLOSED) {
        throw newError('ERR_CONTAINERD_UNAVAILABLE', `containerd ${method}: the client for ${address} is closed`, { cause: err, details: { method, address } });
      }
      throw err;
    }
  };
}

/** Whether `err` is the ERR_CONTAINERD_ALREADY_EXISTS (or any AlreadyExists) error of a containerd call. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ContainerkitError && err.category === 'AlreadyExists';
}

/** Whether `err` is a NotFound error of a containerd call. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ContainerkitError && err.category === 'NotFound';
}

// runc's message when it cannot exec the container's process, at create (runc ≥ 1.0) or start (older runc):
//   exec: "/nonexistent": stat /nonexistent: no such file or directory
//   exec: "nosuch": executable file not found in $PATH
//   exec: "/etc/passwd": permission denied
// The `exec: "…":` prefix keeps other ENOENT/EACCES failures (a missing mount source) out.
const EXEC_FAILURE = /exec: "((?:[^"\\]|\\.)*)": ([^\n]*?)(?:: unknown)?$/;

/**
 * A failed task create/start or exec start whose cause is the container's command (docker's
 * translateContainerdStartErr): ERR_CONTAINER_COMMAND_NOT_FOUND for "executable file not found" / "no such file or
 * directory", ERR_CONTAINER_COMMAND_NOT_EXECUTABLE for "permission denied", the original as `cause`; any other
 * error is returned as it is.
 */
export function commandError(err: unknown): unknown {
  if (!(err instanceof ContainerkitError) || !err.code.startsWith('ERR_CONTAINERD_')) return err;
  const match = EXEC_FAILURE.exec(String(err.details['grpcMessage'] ?? ''));
  if (match === null) return err;
  const command = match[1]!.replace(/\\(.)/g, '$1');
  const reason = match[2]!;
  const details = { ...err.details, command };
  if (/executable file not found|no such file or directory/i.test(reason)) {
    return newError('ERR_CONTAINER_COMMAND_NOT_FOUND', `container command ${JSON.stringify(command)} not found: ${reason}`, { cause: err, details });
  }
  if (/permission denied/i.test(reason)) {
    return newError('ERR_CONTAINER_COMMAND_NOT_EXECUTABLE', `container command ${JSON.stringify(command)} cannot be executed: ${reason}`, {
      cause: err,
      details,
    });
  }
  return err;
}
