/**
 * The OCI runtime spec builder: containerd's default Linux spec plus Docker's default seccomp profile, and
 * composable `withX` options.
 * @module
 */
export * from './generate.js';
export { composeSpecOpts, type SpecOpt, type SpecContext } from './spec-opt.js';
export * from './opts-process.js';
export * from './opts-security.js';
export * from './opts-mounts.js';
export * from './opts-linux.js';
export * from './opts-image.js';
export * from './defaults.js';
export * from './seccomp-default.js';
export * from './seccomp-profile.js';
export * from './capabilities.js';
export * from './rlimits.js';
export * from './user.js';
