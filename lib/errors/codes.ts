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
  /** A manifest, index or config repeats a JSON object key (at any depth): parsers disagree on which value wins, so such a document is refused. `details.field` names the key's path. */
  ERR_DUPLICATE_JSON_KEY: 'InvalidArgument',
  /** An image config's `os`, `architecture` or `variant` contradicts the platform its manifest was selected for in an index. */
  ERR_PLATFORM_MISMATCH: 'InvalidArgument',
  /** Docker image manifest schema 1, which containerkit does not support. */
  ERR_SCHEMA1_UNSUPPORTED: 'InvalidArgument',
  /** A path would resolve outside the root it must stay in. */
  ERR_PATH_ESCAPE: 'PermissionDenied',
  /** Too many symlinks while resolving a path (a loop). */
  ERR_SYMLINK_LOOP: 'InvalidArgument',
  /**
   * A call to a peer got no answer before its deadline, whatever the transport: a ttrpc call (a shim) past its
   * `timeoutMs` or answered DEADLINE_EXCEEDED (4) by the peer, a containerd gRPC call past its `timeoutMs`/`deadline`
   * or answered DEADLINE_EXCEEDED, a registry request whose response headers did not come within `connectTimeoutMs`.
   * `details.transport` is `ttrpc`, `grpc` or `http`; `details.timeoutMs` when the deadline was ours,
   * `details.grpcCode` when the peer reported it; and the call (`service`/`method`, or `method`/`url`). A retry may help.
   */
  ERR_DEADLINE_EXCEEDED: 'Unavailable',
  /**
   * A lock is held by a live process and could not be taken in time. Not a call deadline (no peer was asked):
   * another holder kept a local resource.
   */
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
  /** Registry authentication could not be completed for a reason other than refused credentials: the token server was unreachable or answered an error, sent no usable token, or a challenge was malformed or pointed at an insecure realm. A retry may help. */
  ERR_REGISTRY_AUTH_FAILED: 'Unavailable',
  /** A `docker-credential-<name>` helper failed or answered something other than the credential-helper protocol; `details` holds the helper name and its first output line. */
  ERR_CREDENTIAL_HELPER_FAILED: 'Unavailable',
  /** A registry says the repository, manifest, tag or blob does not exist (HTTP 404, `NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`…). */
  ERR_REGISTRY_NOT_FOUND: 'NotFound',
  /** A registry refused the request for lack of rights (HTTP 403, `DENIED`). */
  ERR_REGISTRY_DENIED: 'PermissionDenied',
  /** A registry asked for credentials that were missing or refused (HTTP 401, `UNAUTHORIZED`), after one fresh try. */
  ERR_REGISTRY_UNAUTHORIZED: 'PermissionDenied',
  /** A registry is unreachable, timed out or failed (network error, HTTP 408, 5xx); `details.temporary` says whether a retry could help. */
  ERR_REGISTRY_UNAVAILABLE: 'Unavailable',
  /** A registry is rate-limiting (HTTP 429, `TOOMANYREQUESTS`); `details.retryAfterMs` holds its Retry-After when given. */
  ERR_REGISTRY_TOO_MANY_REQUESTS: 'Unavailable',
  /** A registry rejected the request as invalid (HTTP 400: `MANIFEST_INVALID`, `DIGEST_INVALID`, `BLOB_UPLOAD_INVALID`, `TAG_INVALID`…). */
  ERR_REGISTRY_INVALID: 'InvalidArgument',
  /** A registry does not support the operation (HTTP 405, `UNSUPPORTED`), e.g. deletes disabled. */
  ERR_REGISTRY_UNSUPPORTED: 'FailedPrecondition',
  /** A registry answered something the distribution protocol does not allow (a missing Location, a bad Content-Range, an unexpected status). */
  ERR_REGISTRY_PROTOCOL: 'Internal',
  /** A registry's redirect or upload `Location` would move a request from https to plain http; it is not followed. */
  ERR_INSECURE_REDIRECT: 'PermissionDenied',
  /** More than the allowed number of HTTP redirects (5), or a redirect loop. */
  ERR_REDIRECT_LIMIT: 'Unavailable',
  /**
   * An HTTP response body stopped delivering bytes for longer than the stall timeout while the reader was waiting.
   * Not a call deadline: the call had answered and may run as long as bytes keep coming; a blob download resumes
   * after it with a Range request.
   */
  ERR_STALL_TIMEOUT: 'Unavailable',
  /** A foreign (non-distributable) layer lists `urls` on a host the caller did not allow, so it is not fetched from there. */
  ERR_FOREIGN_LAYER_DENIED: 'PermissionDenied',
  /** A ttrpc peer answered NOT_FOUND (gRPC code 5), e.g. a shim asked about a process it no longer has; `details` holds `grpcCode`, `grpcMessage`, `service` and `method`. */
  ERR_TTRPC_NOT_FOUND: 'NotFound',
  /** A ttrpc peer answered ALREADY_EXISTS (6), e.g. an exec id already in use; `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_ALREADY_EXISTS: 'AlreadyExists',
  /** A ttrpc peer answered INVALID_ARGUMENT (3) or OUT_OF_RANGE (11); `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_INVALID_ARGUMENT: 'InvalidArgument',
  /** A ttrpc peer answered FAILED_PRECONDITION (9), e.g. starting an exec in a stopped task; `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_FAILED_PRECONDITION: 'FailedPrecondition',
  /** A ttrpc peer answered PERMISSION_DENIED (7) or UNAUTHENTICATED (16); `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_PERMISSION_DENIED: 'PermissionDenied',
  /** A ttrpc peer does not serve the service or method (UNIMPLEMENTED, 12); `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_UNIMPLEMENTED: 'FailedPrecondition',
  /** A ttrpc peer answered ABORTED (10): a concurrent change got there first; `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_ABORTED: 'Conflict',
  /** A ttrpc peer is unreachable (ENOENT, ECONNREFUSED, a connect timeout — no call was made yet, so not ERR_DEADLINE_EXCEEDED; `details.errno`) or answered UNAVAILABLE (14), CANCELLED (1) or RESOURCE_EXHAUSTED (8). A retry may help. */
  ERR_TTRPC_UNAVAILABLE: 'Unavailable',
  /** The ttrpc connection closed (by either side) while the call was pending or before it was sent. */
  ERR_TTRPC_CONNECTION_CLOSED: 'Unavailable',
  /** A ttrpc peer answered UNKNOWN (2), INTERNAL (13), DATA_LOSS (15) or a code outside gRPC's list; `details` as for ERR_TTRPC_NOT_FOUND. */
  ERR_TTRPC_INTERNAL: 'Internal',
  /** A ttrpc message is larger than the protocol's 4 MiB limit; `details.direction` is `send` or `receive`, `details.length` its size. */
  ERR_TTRPC_MESSAGE_TOO_LARGE: 'InvalidArgument',
  /** A ttrpc peer broke the protocol: an undecodable frame or message, a frame type or stream id that is not allowed. */
  ERR_TTRPC_PROTOCOL: 'Internal',
  /** A shim does not serve `containerd.task.v2.Task` (containerd 2.x shims serve `containerd.task.v3.Task`, which containerkit does not support). */
  ERR_SHIM_TASK_API_UNSUPPORTED: 'FailedPrecondition',
  /** A shim could not be started: `<shim> … start` failed or printed no address containerkit can use; `details` has the shim's output. */
  ERR_SHIM_START_FAILED: 'Internal',
  /** A layer's uncompressed stream is larger than the caller's limit (`maxUncompressedSize`); `details` holds the limit. */
  ERR_LAYER_TOO_LARGE: 'InvalidArgument',
  /** A layer ended early: the compressed stream stops mid-way, or the tar stops before its end-of-archive marker. */
  ERR_LAYER_TRUNCATED: 'InvalidArgument',
  /** A layer's compressed stream is not valid gzip or zstd (bad header, corrupt data). */
  ERR_LAYER_CORRUPT: 'InvalidArgument',
  /** A layer tar is malformed: a bad header checksum, a negative or non-octal number field, a bad PAX record, data after the end-of-archive marker, a hardlink to a missing target. `details.offset` is the byte offset in the tar. */
  ERR_INVALID_TAR: 'InvalidArgument',
  /** A layer tar holds an entry type an image layer may not carry (sparse files, volume headers…); only files, directories, symlinks, hardlinks, devices and fifos are applied. */
  ERR_UNSUPPORTED_TAR_ENTRY: 'InvalidArgument',
  /** A whiteout entry is malformed: an empty, `.` or `..` name, or `.wh.` used as a directory component. */
  ERR_INVALID_WHITEOUT: 'InvalidArgument',
  /** A content ingest (resumable write) is held by another writer, in this process or another; retry later or wait. `details.ref` names it. */
  ERR_INGEST_LOCKED: 'Unavailable',
  /** A content store directory is not a usable OCI image layout (bad `oci-layout`, unparseable `index.json`). `details.path` names the file. */
  ERR_INVALID_LAYOUT: 'FailedPrecondition',
  /** A snapshot cannot be removed while it is mounted (by a running container, a view being read…); `details.mountPoints` lists where. Unmount first. */
  ERR_SNAPSHOT_MOUNTED: 'FailedPrecondition',
  /** No image of that name is recorded in the image store. `details.name` holds the normalised reference. */
  ERR_IMAGE_NOT_FOUND: 'NotFound',
  /** An image cannot be removed while a container's snapshot is built on it (docker's "conflict: … is using its referenced image"); `details.containers` names them. Remove them or pass `force`. */
  ERR_IMAGE_IN_USE: 'Conflict',
  /** containerd answered NOT_FOUND (a container, image, blob, snapshot… that does not exist). `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_NOT_FOUND: 'NotFound',
  /** containerd answered ALREADY_EXISTS. `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_ALREADY_EXISTS: 'AlreadyExists',
  /** containerd answered INVALID_ARGUMENT or OUT_OF_RANGE. `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_INVALID_ARGUMENT: 'InvalidArgument',
  /** containerd answered FAILED_PRECONDITION (e.g. deleting a running task). `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_FAILED_PRECONDITION: 'FailedPrecondition',
  /** containerd does not implement the method (an older daemon, a disabled plugin). `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_UNIMPLEMENTED: 'FailedPrecondition',
  /** containerd is unreachable (no socket, daemon down) or busy (a locked ingest); a passed deadline is ERR_DEADLINE_EXCEEDED. `details` holds grpcCode, grpcMessage, method and address. */
  ERR_CONTAINERD_UNAVAILABLE: 'Unavailable',
  /** containerd answered PERMISSION_DENIED or UNAUTHENTICATED. `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_PERMISSION_DENIED: 'PermissionDenied',
  /** containerd answered ABORTED: a concurrent change got there first. `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_CONFLICT: 'Conflict',
  /** containerd failed internally or answered UNKNOWN/INTERNAL/DATA_LOSS. `details` holds grpcCode, grpcMessage and method. */
  ERR_CONTAINERD_INTERNAL: 'Internal',
  /** A container's command does not exist in its rootfs or `$PATH` (runc: "executable file not found", "no such file or directory"); a CLI exits 127 for it, as docker. `details.command` names it. */
  ERR_CONTAINER_COMMAND_NOT_FOUND: 'NotFound',
  /** A container's command exists but cannot be executed (runc: "permission denied"); a CLI exits 126 for it, as docker. `details.command` names it. */
  ERR_CONTAINER_COMMAND_NOT_EXECUTABLE: 'PermissionDenied',
  /** A container would have no command: neither the create options nor the image give an entrypoint or a cmd (docker's "no command specified"). */
  ERR_NO_COMMAND: 'InvalidArgument',
  /** No container has that id, unique id prefix or name (engine container store). `details.reference` holds what was asked for. */
  ERR_NO_SUCH_CONTAINER: 'NotFound',
  /** A container name is taken by another container, or is being reserved by a concurrent create or rename. `details` holds name and, when known, the holder's id. */
  ERR_NAME_IN_USE: 'Conflict',
  /** A container name does not match docker's rule `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$` (at most 255 characters). `details.name` holds it. */
  ERR_INVALID_CONTAINER_NAME: 'InvalidArgument',
  /** An id prefix matches more than one container. `details` holds the reference and the matching ids. */
  ERR_AMBIGUOUS_CONTAINER_REFERENCE: 'InvalidArgument',
} as const satisfies Record<string, ErrorCategory>;

/** A stable error code; see {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of containerkit's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
