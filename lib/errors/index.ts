export * from './codes.js';
export * from './containerkit-error.js';
export * from './is-abort.js';
