/**
 * Every error containerkit throws carries one of these codes. Codes are stable: match on `code`, not on the
 * message. Each code belongs to exactly one category (containerd's errdefs families), so a caller can also
 * handle a whole family with `instanceof NotFoundError` and friends.
 */
export type ErrorCategory =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'PermissionDenied'
  | 'Conflict'
  | 'Internal';

/**
 * The one list of error codes, with the category of each. Documented in README.md ("Error codes").
 */
export const ERROR_CODES = {
  /** An argument or option has a wrong type or value; the message names it. */
  ERR_INVALID_ARGUMENT: 'InvalidArgument',
  /** A digest string is not `<algorithm>:<hex>` with the exact hex length, lower-case. */
  ERR_INVALID_DIGEST: 'InvalidArgument',
  /** A digest names an algorithm other than sha256 or sha512. */
  ERR_UNSUPPORTED_DIGEST_ALGORITHM: 'InvalidArgument',
  /** Bytes did not hash to the digest they were expected to have. */
  ERR_DIGEST_MISMATCH: 'InvalidArgument',
  /** A stream was longer or shorter than the size it was expected to have. */
  ERR_SIZE_MISMATCH: 'InvalidArgument',
  /** An image reference does not follow the docker reference grammar. */
  ERR_INVALID_REFERENCE: 'InvalidArgument',
  /** A platform string is not `os[/arch[/variant]]`. */
  ERR_INVALID_PLATFORM: 'InvalidArgument',
  /** An index holds no manifest for the requested platform. */
  ERR_NO_MATCHING_PLATFORM: 'NotFound',
  /** A manifest, index or config is not valid JSON or misses or mistypes a required field. */
  ERR_INVALID_MANIFEST: 'InvalidArgument',
  /** A manifest, index or config is larger than the cap (4 MiB for manifests and indexes). */
  ERR_MANIFEST_TOO_LARGE: 'InvalidArgument',
  /** A media type is not one containerkit knows how to handle in that place. */
  ERR_UNSUPPORTED_MEDIA_TYPE: 'InvalidArgument',
  /** A body's `mediaType` contradicts the descriptor it was fetched through. */
  ERR_MEDIA_TYPE_MISMATCH: 'InvalidArgument',
  /** Docker image manifest schema 1, which containerkit does not support. */
  ERR_SCHEMA1_UNSUPPORTED: 'InvalidArgument',
  /** A path would resolve outside the root it must stay in. */
  ERR_PATH_ESCAPE: 'PermissionDenied',
  /** Too many symlinks while resolving a path (a loop). */
  ERR_SYMLINK_LOOP: 'InvalidArgument',
  /** A lock is held by a live process and could not be taken in time. */
  ERR_LOCK_TIMEOUT: 'Unavailable',
  /** A required Linux program is not installed. */
  ERR_TOOL_MISSING: 'FailedPrecondition',
  /** A Linux program exited with an error; the error carries argv, exit code and a stderr tail. */
  ERR_TOOL_FAILED: 'Internal',
  /** The named object does not exist. */
  ERR_NOT_FOUND: 'NotFound',
  /** An object with that name already exists. */
  ERR_ALREADY_EXISTS: 'AlreadyExists',
  /** The object is in the wrong state for the operation. */
  ERR_FAILED_PRECONDITION: 'FailedPrecondition',
  /** The operation cannot run on this host (missing privilege, kernel feature or OS). */
  ERR_UNSUPPORTED_PLATFORM: 'FailedPrecondition',
  /** A bug or an unexpected state inside containerkit. */
  ERR_INTERNAL: 'Internal',
  /** A filesystem call failed for a reason the caller cannot fix by changing arguments (EIO, ENOSPC, EACCES…); `details.errno` holds the errno name and the Node error is the `cause`. */
  ERR_IO: 'Internal',
  /** A file containerkit keeps state in (a JSON record, a lock file) exists but cannot be parsed: truncated or edited by hand. */
  ERR_CORRUPT_FILE: 'FailedPrecondition',
  /** runc (or a runtime with its CLI) failed; `details` holds argv, exitCode, signal, runc's own message (`runcMessage`, from its JSON log) and a stderr tail. */
  ERR_RUNC_FAILED: 'Internal',
  /** runc says the container does not exist (under the runtime's state root). */
  ERR_RUNC_CONTAINER_NOT_FOUND: 'NotFound',
  /** runc refused to create a container whose id is already taken under the state root. */
  ERR_RUNC_CONTAINER_EXISTS: 'AlreadyExists',
  /** The container is in the wrong state for the verb (start a running one, pause a stopped one, delete a running one without force…). */
  ERR_RUNC_CONTAINER_STATE: 'FailedPrecondition',
  /** Checkpoint or restore needs `criu`, and it is not installed (or not at the configured path). */
  ERR_CRIU_MISSING: 'FailedPrecondition',
  /** criu ran and failed (an unsupported kernel, a resource it cannot dump…); `details.criuErrors` holds the error lines of its log. */
  ERR_CRIU_FAILED: 'FailedPrecondition',
  /** A user or group named for a container's process is not in its rootfs's `/etc/passwd` or `/etc/group`. */
  ERR_USER_NOT_FOUND: 'NotFound',
} as const satisfies Record<string, ErrorCategory>;

/** A stable error code; see {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of containerkit's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
