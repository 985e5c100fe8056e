import { ERROR_CODES, type ErrorCategory, type ErrorCode } from './codes.js';

// A registry symbol, so that `instanceof` holds across two installed copies of containerkit.
const BRAND = Symbol.for('containerkit.error');

/** Options every containerkit error accepts. */
export interface ContainerkitErrorOptions {
  /** The foreign error this one translates (kept as `cause`). */
  cause?: unknown;
  /** Evidence for the caller (argv, exit code, offending field…); never a secret. */
  details?: Record<string, unknown>;
}

/**
 * The base of every error containerkit throws. Match on {@link ContainerkitError.code} (stable) or on the
 * category subclasses; messages may change.
 */
export class ContainerkitError extends Error {
  /** The category this class stands for; `undefined` on the base class, which matches every category. */
  static readonly category: ErrorCategory | undefined = undefined;

  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ContainerkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.category = ERROR_CODES[code];
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true });
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[BRAND] !== true) {
      return false;
    }
    return this.category === undefined || (value as ContainerkitError).category === this.category;
  }
}

/** The named object does not exist. */
export class NotFoundError extends ContainerkitError {
  static override readonly category = 'NotFound' as const;
}
/** An object with that name already exists. */
export class AlreadyExistsError extends ContainerkitError {
  static override readonly category = 'AlreadyExists' as const;
}
/** The caller passed something invalid; retrying the same call cannot succeed. */
export class InvalidArgumentError extends ContainerkitError {
  static override readonly category = 'InvalidArgument' as const;
}
/** The system is not in the state the operation needs. */
export class FailedPreconditionError extends ContainerkitError {
  static override readonly category = 'FailedPrecondition' as const;
}
/** A dependency is unreachable or busy; a retry may help. */
export class UnavailableError extends ContainerkitError {
  static override readonly category = 'Unavailable' as const;
}
/** Refused for lack of rights, or to keep a boundary (a path escaping its root). */
export class PermissionDeniedError extends ContainerkitError {
  static override readonly category = 'PermissionDenied' as const;
}
/** A concurrent change got there first. */
export class ConflictError extends ContainerkitError {
  static override readonly category = 'Conflict' as const;
}
/** A bug or an unexpected failure of a dependency. */
export class InternalError extends ContainerkitError {
  static override readonly category = 'Internal' as const;
}

const CLASS_OF_CATEGORY: Record<ErrorCategory, new (code: ErrorCode, message: string, options?: ContainerkitErrorOptions) => ContainerkitError> = {
  NotFound: NotFoundError,
  AlreadyExists: AlreadyExistsError,
  InvalidArgument: InvalidArgumentError,
  FailedPrecondition: FailedPreconditionError,
  Unavailable: UnavailableError,
  PermissionDenied: PermissionDeniedError,
  Conflict: ConflictError,
  Internal: InternalError,
};

/**
 * Builds the error for `code`, as an instance of its category's class. This is how library code throws:
 * `throw newError('ERR_INVALID_DIGEST', 'digest "x" is not …')`.
 */
export function newError(code: ErrorCode, message: string, options: ContainerkitErrorOptions = {}): ContainerkitError {
  return new CLASS_OF_CATEGORY[ERROR_CODES[code]](code, message, options);
}

/** Whether `err` is a containerkit error with the given code. */
export function hasCode(err: unknown, code: ErrorCode): err is ContainerkitError {
  return err instanceof ContainerkitError && err.code === code;
}
