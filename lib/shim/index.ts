/**
 * Talking to containerd shims without containerd: a ttrpc client and server (the shims' RPC protocol), a typed
 * client of the shim task API (`containerd.task.v2.Task`), the shims' task events, and the runc shim's options.
 * Generated protobuf code stays inside; these exports speak containerkit's types.
 * @module
 */
export * from './ttrpc/codec.js';
export * from './ttrpc/status.js';
export * from './ttrpc/client.js';
export * from './ttrpc/server.js';
export * from './ttrpc/service.js';
export { encodeRuncOptions, RUNC_OPTIONS_TYPE_URL, type RuncShimOptions } from './runc-options.js';
export * from './events.js';
export * from './task-types.js';
export * from './task-client.js';
