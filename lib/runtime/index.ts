/**
 * OCIRuntime: one method per runc verb (any runtime with runc's CLI), and the OCI runtime spec builder.
 * @module
 */
export * from './oci-runtime.js';
export * from './options.js';
export * from './types.js';
export * from './process.js';
export { RuncError, classifyRuncMessage, type RuncErrorDetails } from './errors.js';
export type { StdioMode, StdioStreams, StdioOption } from './io.js';
export * from './spec/index.js';
