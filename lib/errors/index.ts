/**
 * containerkit's errors: {@link ContainerkitError} with a stable `code` from {@link ERROR_CODES}, one class per
 * category (NotFound, AlreadyExists, …) for `instanceof`, and the predicates to match them.
 * @module
 */
export { ERROR_CODES, isErrorCode, type ErrorCategory, type ErrorCode } from './codes.js';
export {
  ContainerkitError,
  NotFoundError,
  AlreadyExistsError,
  InvalidArgumentError,
  FailedPreconditionError,
  UnavailableError,
  PermissionDeniedError,
  ConflictError,
  InternalError,
  newError,
  hasCode,
  type ContainerkitErrorOptions,
} from './containerkit-error.js';
export { isAbortError } from './is-abort.js';
