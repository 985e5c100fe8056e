/**
 * containerkit's errors: {@link ContainerkitError} with a stable `code` from {@link ERROR_CODES}, one class per
 * category (NotFound, AlreadyExists, …) for `instanceof`, and the predicates to match them.
 * @module
 */
export { ERROR_CODES, type ErrorCategory, type ErrorCode, isErrorCode } from './codes.js';
export {
  AlreadyExistsError,
  ConflictError,
  ContainerkitError,
  type ContainerkitErrorOptions,
  FailedPreconditionError,
  hasCode,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  newError,
  PermissionDeniedError,
  UnavailableError,
} from './containerkit-error.js';
export { isAbortError } from './is-abort.js';
