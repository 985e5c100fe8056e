import { ContainerkitError, type ErrorCategory, type ErrorCode, newError } from '../../errors/index.js';

/** gRPC status codes, as ttrpc carries them in `Response.status.code`. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

// A Map, not an object: the code is the peer's number, and must never reach a prototype property.
const CODE_OF_GRPC = new Map<number, ErrorCode>(
  Object.entries({
    [GrpcCode.CANCELLED]: 'ERR_TTRPC_UNAVAILABLE',
    [GrpcCode.UNKNOWN]: 'ERR_TTRPC_INTERNAL',
    [GrpcCode.INVALID_ARGUMENT]: 'ERR_TTRPC_INVALID_ARGUMENT',
    [GrpcCode.DEADLINE_EXCEEDED]: 'ERR_DEADLINE_EXCEEDED',
    [GrpcCode.NOT_FOUND]: 'ERR_TTRPC_NOT_FOUND',
    [GrpcCode.ALREADY_EXISTS]: 'ERR_TTRPC_ALREADY_EXISTS',
    [GrpcCode.PERMISSION_DENIED]: 'ERR_TTRPC_PERMISSION_DENIED',
    [GrpcCode.RESOURCE_EXHAUSTED]: 'ERR_TTRPC_UNAVAILABLE',
    [GrpcCode.FAILED_PRECONDITION]: 'ERR_TTRPC_FAILED_PRECONDITION',
    [GrpcCode.ABORTED]: 'ERR_TTRPC_ABORTED',
    [GrpcCode.OUT_OF_RANGE]: 'ERR_TTRPC_INVALID_ARGUMENT',
    [GrpcCode.UNIMPLEMENTED]: 'ERR_TTRPC_UNIMPLEMENTED',
    [GrpcCode.INTERNAL]: 'ERR_TTRPC_INTERNAL',
    [GrpcCode.UNAVAILABLE]: 'ERR_TTRPC_UNAVAILABLE',
    [GrpcCode.DATA_LOSS]: 'ERR_TTRPC_INTERNAL',
    [GrpcCode.UNAUTHENTICATED]: 'ERR_TTRPC_PERMISSION_DENIED',
  } satisfies Record<number, ErrorCode>).map(([code, name]) => [Number(code), name]),
);

/** The decoded `Response.status` of a failed call. */
export interface TtrpcStatusLike {
  code: number;
  message: string;
}

/**
 * Translates a non-OK ttrpc status into a containerkit error: the code by gRPC code (NOT_FOUND → ERR_TTRPC_NOT_FOUND,
 * UNIMPLEMENTED → ERR_TTRPC_UNIMPLEMENTED, …; unknown codes → ERR_TTRPC_INTERNAL), the peer's message in the
 * message, and `details` = `{ grpcCode, grpcMessage, service, method }`.
 */
export function statusToError(status: TtrpcStatusLike, call: { service: string; method: string }): ContainerkitError {
  const code = CODE_OF_GRPC.get(status.code) ?? 'ERR_TTRPC_INTERNAL';
  const text = status.message === '' ? `gRPC code ${status.code}` : status.message;
  return newError(code, `${call.service}/${call.method}: ${text}`, {
    details: {
      ...(code === 'ERR_DEADLINE_EXCEEDED' ? { transport: 'ttrpc' } : {}),
      grpcCode: status.code,
      grpcMessage: status.message,
      service: call.service,
      method: call.method,
    },
  });
}

const GRPC_OF_CATEGORY: Record<ErrorCategory, number> = {
  NotFound: GrpcCode.NOT_FOUND,
  AlreadyExists: GrpcCode.ALREADY_EXISTS,
  InvalidArgument: GrpcCode.INVALID_ARGUMENT,
  FailedPrecondition: GrpcCode.FAILED_PRECONDITION,
  Unavailable: GrpcCode.UNAVAILABLE,
  PermissionDenied: GrpcCode.PERMISSION_DENIED,
  Conflict: GrpcCode.ABORTED,
  Internal: GrpcCode.INTERNAL,
};

/**
 * The status a server sends for a handler's error: a containerkit error by its category (NotFound → 5, …), keeping
 * an original gRPC code in `details.grpcCode` when there is one; anything else is UNKNOWN (2) with its message.
 */
export function errorToStatus(err: unknown): TtrpcStatusLike {
  try {
    if (err instanceof ContainerkitError) {
      const original = err.details.grpcCode;
      const code =
        Number.isInteger(original) && (original as number) > 0 && (original as number) <= 0x7fffffff ? (original as number) : GRPC_OF_CATEGORY[err.category];
      return { code, message: String(err.message) };
    }
    return { code: GrpcCode.UNKNOWN, message: err instanceof Error ? String(err.message) : String(err) };
  } catch {
    // Whatever was thrown (a revoked Proxy, an object whose toString throws) still yields an answer.
    return { code: GrpcCode.UNKNOWN, message: 'handler failed' };
  }
}
