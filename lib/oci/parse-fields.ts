/**
 * Internal building blocks of the strict parsers (`parse-manifest.ts`, `parse-config.ts`): reading a capped JSON
 * document and checking fields, with errors that name the field path. Not part of the public API.
 * @internal
 * @module
 */
import { ContainerkitError, type ErrorCode, newError } from '../errors/index.js';
import type { Descriptor, ExpectedContent } from './descriptor.js';
import { type Digest, parseDigest } from './digest.js';
import { findDuplicateKey } from './json-duplicate-keys.js';
import { isWellFormedMediaType } from './media-types.js';

/**
 * What is being parsed, for messages, and whether `null` stands for "absent" in optional fields (Docker writes
 * `"Env": null` and friends in image configs, and Go decoders accept it; no manifest producer writes `null`).
 * @internal
 */
export interface ParseContext {
  readonly what: string;
  readonly nullable: boolean;
}

/** A decoded JSON object. @internal */
export type JsonObject = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `parent.key`, `parent[3]` or `parent["os.version"]`. @internal */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Builds the error for a bad field; the path goes first in the message and into `details.field`. @internal */
export function fieldError(ctx: ParseContext, path: string, message: string, code: ErrorCode = 'ERR_INVALID_MANIFEST'): ContainerkitError {
  return newError(code, `invalid ${ctx.what}: ${path === '' ? '' : `${path}: `}${message}`, {
    details: path === '' ? {} : { field: path },
  });
}

/** A short, bounded description of a JSON value for error messages. @internal */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * Checks `maxSize` from options, or returns the default.
 * @throws ERR_INVALID_ARGUMENT when it is not a positive safe integer.
 * @internal
 */
export function resolveMaxSize(maxSize: unknown, fallback: number): number {
  if (maxSize === undefined) return fallback;
  if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize <= 0) {
    throw newError('ERR_INVALID_ARGUMENT', `options.maxSize must be a positive safe integer, got ${show(maxSize)}`);
  }
  return maxSize;
}

/**
 * Checks `options.expected`.
 * @throws ERR_INVALID_ARGUMENT when it is not an object with a string mediaType and an optional non-negative
 *   safe integer size.
 * @internal
 */
export function checkExpected(expected: unknown): ExpectedContent | undefined {
  if (expected === undefined) return undefined;
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.expected must be a descriptor, got ${show(expected)}`);
  }
  const { mediaType, size } = expected as Record<string, unknown>;
  if (typeof mediaType !== 'string') {
    throw newError('ERR_INVALID_ARGUMENT', `options.expected.mediaType must be a string, got ${show(mediaType)}`);
  }
  if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.expected.size must be a non-negative safe integer, got ${show(size)}`);
  }
  return expected as ExpectedContent;
}

// Strict UTF-8, and keep a byte-order mark so JSON.parse rejects it rather than the decoder hiding it.
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Byte length of a body given as bytes or as a string (UTF-8). @internal */
export function byteLength(input: Uint8Array | string): number {
  return typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
}

/**
 * Checks the size of `input` against `maxSize` *before* decoding anything, then decodes strict UTF-8 JSON whose
 * top level must be an object.
 * @throws ERR_INVALID_ARGUMENT when `input` is neither a string nor a Uint8Array.
 * @throws ERR_MANIFEST_TOO_LARGE when `input` is larger than `maxSize` bytes.
 * @throws ERR_SIZE_MISMATCH when `expectedSize` is given and differs from the byte length.
 * @throws ERR_INVALID_MANIFEST when it is not UTF-8, not JSON, or not a JSON object.
 * @throws ERR_DUPLICATE_JSON_KEY when an object, at any depth, repeats a key.
 * @internal
 */
export function readJsonObject(ctx: ParseContext, input: Uint8Array | string, maxSize: number, expectedSize?: number): JsonObject {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw newError('ERR_INVALID_ARGUMENT', `${ctx.what} must be given as a Uint8Array, Buffer or string, got ${show(input)}`);
  }
  const size = byteLength(input);
  if (size > maxSize) {
    throw newError('ERR_MANIFEST_TOO_LARGE', `${ctx.what} is ${size} bytes, more than the ${maxSize}-byte limit`, {
      details: { size, maxSize },
    });
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    throw newError('ERR_SIZE_MISMATCH', `${ctx.what} is ${size} bytes but its descriptor says ${expectedSize}`, {
      details: { size, expectedSize },
    });
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : DECODER.decode(input);
  } catch (cause) {
    throw newError('ERR_INVALID_MANIFEST', `invalid ${ctx.what}: not valid UTF-8`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw newError('ERR_INVALID_MANIFEST', `invalid ${ctx.what}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fieldError(ctx, '', `the document must be a JSON object, got ${show(value)}`);
  }
  // JSON.parse kept the last of a repeated key's values; another tool may read the first.
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const path = duplicate.reduce<string>((parent, step) => fieldPath(parent, step), '');
    throw fieldError(ctx, path, 'the key appears twice in one object (JSON parsers disagree on which value wins)', 'ERR_DUPLICATE_JSON_KEY');
  }
  return value as JsonObject;
}

/** Whether `obj[key]` counts as present (`null` counts as absent where the context allows it). @internal */
export function has(ctx: ParseContext, obj: JsonObject, key: string): boolean {
  const value = obj[key];
  return value !== undefined && !(ctx.nullable && value === null);
}

/** Checks that `value` is a JSON object. @internal */
export function expectObject(ctx: ParseContext, value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fieldError(ctx, path, `must be an object, got ${show(value)}`);
  }
  return value as JsonObject;
}

/** Checks that `obj[key]` is present and a string; returns it. @internal */
export function requireString(ctx: ParseContext, obj: JsonObject, key: string, path: string): string {
  const value = obj[key];
  if (!has(ctx, obj, key)) throw fieldError(ctx, fieldPath(path, key), 'is required');
  if (typeof value !== 'string') throw fieldError(ctx, fieldPath(path, key), `must be a string, got ${show(value)}`);
  return value;
}

/** Checks that `obj[key]`, when present, is a string. @internal */
export function optionalString(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  if (has(ctx, obj, key) && typeof obj[key] !== 'string') {
    throw fieldError(ctx, fieldPath(path, key), `must be a string, got ${show(obj[key])}`);
  }
}

/** Checks that `obj[key]`, when present, is a boolean. @internal */
export function optionalBoolean(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  if (has(ctx, obj, key) && typeof obj[key] !== 'boolean') {
    throw fieldError(ctx, fieldPath(path, key), `must be a boolean, got ${show(obj[key])}`);
  }
}

/** Checks that `obj[key]`, when present, is a safe integer (≥ 0 unless `signed`). @internal */
export function optionalInteger(ctx: ParseContext, obj: JsonObject, key: string, path: string, signed = false): void {
  if (has(ctx, obj, key)) checkInteger(ctx, obj[key], fieldPath(path, key), signed);
}

function checkInteger(ctx: ParseContext, value: unknown, path: string, signed: boolean): void {
  // Above 2^53 a JSON number has already been rounded by JSON.parse, so it cannot be trusted as a size.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || (!signed && value < 0)) {
    throw fieldError(ctx, path, `must be a ${signed ? '' : 'non-negative '}safe integer, got ${show(value)}`);
  }
}

/** Checks that `obj[key]`, when present, is an array of strings. @internal */
export function optionalStringArray(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  if (!has(ctx, obj, key)) return;
  const at = fieldPath(path, key);
  const value = obj[key];
  if (!Array.isArray(value)) throw fieldError(ctx, at, `must be an array of strings, got ${show(value)}`);
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw fieldError(ctx, fieldPath(at, i), `must be a string, got ${show(item)}`);
  });
}

/** Checks that `obj[key]`, when present, is an object whose values are all strings. @internal */
export function optionalStringMap(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  if (!has(ctx, obj, key)) return;
  const at = fieldPath(path, key);
  const map = expectObject(ctx, obj[key], at);
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw fieldError(ctx, fieldPath(at, name), `must be a string, got ${show(value)}`);
  }
}

/** Checks that `obj[key]`, when present, is an object whose values are all objects (`ExposedPorts`, `Volumes`). @internal */
export function optionalObjectMap(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  if (!has(ctx, obj, key)) return;
  const at = fieldPath(path, key);
  const map = expectObject(ctx, obj[key], at);
  for (const [name, value] of Object.entries(map)) expectObject(ctx, value, fieldPath(at, name));
}

/**
 * Checks that `obj[key]` is a valid digest, through `parseDigest`.
 * @throws ERR_INVALID_DIGEST (or ERR_UNSUPPORTED_DIGEST_ALGORITHM) naming the field.
 * @internal
 */
export function requireDigest(ctx: ParseContext, obj: JsonObject, key: string, path: string): Digest {
  const at = fieldPath(path, key);
  if (!has(ctx, obj, key)) throw fieldError(ctx, at, 'is required');
  return checkDigest(ctx, obj[key], at);
}

/** Checks one digest value (see {@link requireDigest}). @internal */
export function checkDigest(ctx: ParseContext, value: unknown, path: string): Digest {
  try {
    return parseDigest(value);
  } catch (err) {
    if (!(err instanceof ContainerkitError)) throw err;
    throw newError(err.code, `invalid ${ctx.what}: ${path}: ${err.message}`, { cause: err, details: { field: path } });
  }
}

/** Checks that `obj[key]` is present and a well-formed media type; returns it. @internal */
export function requireMediaType(ctx: ParseContext, obj: JsonObject, key: string, path: string): string {
  const value = requireString(ctx, obj, key, path);
  if (!isWellFormedMediaType(value)) throw fieldError(ctx, fieldPath(path, key), `${show(value)} is not a well-formed media type`);
  return value;
}

/** Checks that `obj[key]`, when present, is a well-formed media type; returns it or `undefined`. @internal */
export function optionalMediaType(ctx: ParseContext, obj: JsonObject, key: string, path: string): string | undefined {
  return has(ctx, obj, key) ? requireMediaType(ctx, obj, key, path) : undefined;
}

// RFC 4648 base64 with padding: what the OCI spec requires of `data`.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks a descriptor: mediaType (well-formed), digest (`parseDigest`), size (non-negative safe integer), and
 * when present urls (absolute URLs), annotations (string map), platform, artifactType and data (base64 whose
 * decoded length equals size; hashing it is left to the consumer). Extra fields are kept.
 * @internal
 */
export function checkDescriptor(ctx: ParseContext, value: unknown, path: string): Descriptor {
  const obj = expectObject(ctx, value, path);
  requireMediaType(ctx, obj, 'mediaType', path);
  requireDigest(ctx, obj, 'digest', path);
  if (obj.size === undefined) throw fieldError(ctx, fieldPath(path, 'size'), 'is required');
  checkInteger(ctx, obj.size, fieldPath(path, 'size'), false);
  optionalStringArray(ctx, obj, 'urls', path);
  if (Array.isArray(obj.urls)) {
    obj.urls.forEach((url: string, i) => {
      if (!URL.canParse(url)) throw fieldError(ctx, fieldPath(fieldPath(path, 'urls'), i), `${show(url)} is not an absolute URL`);
    });
  }
  optionalStringMap(ctx, obj, 'annotations', path);
  if (obj.platform !== undefined) checkPlatform(ctx, obj.platform, fieldPath(path, 'platform'));
  optionalMediaType(ctx, obj, 'artifactType', path);
  if (obj.data !== undefined) {
    const at = fieldPath(path, 'data');
    if (typeof obj.data !== 'string' || !BASE64.test(obj.data)) throw fieldError(ctx, at, 'must be a base64 string (RFC 4648)');
    const padding = obj.data.endsWith('==') ? 2 : obj.data.endsWith('=') ? 1 : 0;
    const decoded = (obj.data.length / 4) * 3 - padding;
    if (decoded !== obj.size) throw fieldError(ctx, at, `decodes to ${decoded} bytes but size is ${obj.size as number}`);
  }
  return obj as unknown as Descriptor;
}

/** Checks a descriptor's `platform`: architecture and os required strings, the rest typed. @internal */
export function checkPlatform(ctx: ParseContext, value: unknown, path: string): void {
  const obj = expectObject(ctx, value, path);
  requireString(ctx, obj, 'architecture', path);
  requireString(ctx, obj, 'os', path);
  optionalString(ctx, obj, 'os.version', path);
  optionalStringArray(ctx, obj, 'os.features', path);
  optionalString(ctx, obj, 'variant', path);
  optionalStringArray(ctx, obj, 'features', path);
}
