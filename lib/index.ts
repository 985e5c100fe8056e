/**
 * containerkit: build your own container engine in Node.js. Each component is also importable on its own
 * (`containerkit/oci`, `containerkit/util`, …); this root re-exports them all.
 * @packageDocumentation
 */
export * from './errors/index.js';
export * from './util/index.js';
export * from './oci/index.js';
export * from './runtime/index.js';
export * from './registry/index.js';
export * from './content/index.js';
export * from './images/index.js';
export * from './unpack/index.js';
export * from './shim/index.js';
export * from './containerd/index.js';
