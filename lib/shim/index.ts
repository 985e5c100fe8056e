/**
 * Talking to containerd shims without containerd: a ttrpc client and server (the shims' RPC protocol), a typed
 * client of the shim task API (`containerd.task.v2.Task`), the shims' task events, the runc shim's options, and
 * the ShimManager that runs containers through shims so that they outlive the engine (reattach, teardown, a
 * container logger the shims launch).
 * Generated protobuf code stays inside; these exports speak containerkit's types.
 * @module
 */

export { type ContainerLogRecord, parseContainerLogLine } from './container-log.js';
export * from './events.js';
export { type BuildShimLoggerOptions, buildShimLogger, shimLoggerSource } from './logger-build.js';
export * from './manager-types.js';
export { encodeRuncOptions, RUNC_OPTIONS_TYPE_URL, type RuncShimOptions } from './runc-options.js';
export { ShimContainer } from './shim-container.js';
export { ShimExec } from './shim-exec.js';
export { ShimManager } from './shim-manager.js';
export { parseShimStartOutput, SHIM_SOCKET_DIR, type ShimBootstrap, shimSocketPath } from './start-output.js';
export * from './task-client.js';
export * from './task-types.js';
export * from './ttrpc/client.js';
export * from './ttrpc/codec.js';
export * from './ttrpc/server.js';
export * from './ttrpc/service.js';
export * from './ttrpc/status.js';
